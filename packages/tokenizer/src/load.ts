// loadTokenizer: one entry point for every saved tokenizer. It reads our JSON
// (any kind, as toJSON wrote it) and Hugging Face tokenizer.json files.
// A file is data: anything malformed is a TokenizerError naming the field, and
// a split pattern must be known or pass the check for slow regexes unless the
// caller passes { trustPattern: true }.
import { BpeTokenizer } from './bpe.js';
import type { LoadOptions } from './tokenizer.js';
import { HuggingFaceTokenizer } from './huggingface/tokenizer.js';
import { CharTokenizer } from './char.js';
import { WordTokenizer } from './word.js';
import { TokenizerError } from './errors.js';
import type { Tokenizer } from './tokenizer.js';
import { describeValue, parseJSON } from './validate.js';

/** A tokenizer from its JSON (text or parsed): `kind: 'char'`, `kind: 'bpe'`, `kind: 'word'`, or a Hugging Face tokenizer.json. */
export function loadTokenizer(json: unknown, options: LoadOptions = {}): Tokenizer {
  const data = typeof json === 'string' ? parseJSON(json) : json;
  if (data === null || typeof data !== 'object') throw new TokenizerError(`expected a tokenizer JSON object, found ${data === null ? 'null' : typeof data}`);
  const record = data as Record<string, unknown>;
  if (record.kind === 'char') return CharTokenizer.fromJSON(data as never);
  if (record.kind === 'bpe') return BpeTokenizer.fromJSON(data as never, options);
  if (record.kind === 'word') return WordTokenizer.fromJSON(data as never);
  if (record.model && typeof record.model === 'object') return HuggingFaceTokenizer.fromJSON(data, options);
  throw new TokenizerError(`expected a tokenizer JSON with kind "char", "bpe" or "word", or a Hugging Face tokenizer.json with a "model", found ${record.kind === undefined ? `keys ${Object.keys(record).slice(0, 10).join(', ') || '(none)'}` : `kind ${describeValue(record.kind)}`}`);
}
