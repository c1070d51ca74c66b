// loadTokenizer: one entry point for every saved tokenizer. It reads our JSON
// (either kind, as toJSON wrote it) and Hugging Face tokenizer.json files.
import { BpeTokenizer } from './bpe.js';
import { CharTokenizer } from './char.js';
import { TokenizerError } from './errors.js';
import type { Tokenizer } from './tokenizer.js';

/** A tokenizer from its JSON (text or parsed): `kind: 'char'`, `kind: 'bpe'`, or a Hugging Face tokenizer.json. */
export function loadTokenizer(json: unknown): Tokenizer {
  const data = typeof json === 'string' ? parseJSON(json) : json;
  if (data === null || typeof data !== 'object') throw new TokenizerError(`expected a tokenizer JSON object, found ${data === null ? 'null' : typeof data}`);
  const record = data as Record<string, unknown>;
  if (record.kind === 'char') return CharTokenizer.fromJSON(data as never);
  if (record.kind === 'bpe') return BpeTokenizer.fromJSON(data as never);
  if (record.model && typeof record.model === 'object') return BpeTokenizer.fromHuggingFace(data);
  throw new TokenizerError(`expected a tokenizer JSON with kind "char" or "bpe", or a Hugging Face tokenizer.json with a "model", found ${record.kind === undefined ? `keys ${Object.keys(record).join(', ') || '(none)'}` : `kind ${JSON.stringify(record.kind)}`}`);
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TokenizerError(`expected tokenizer JSON text, found text that does not parse: ${(err as Error).message}`, { cause: err });
  }
}
