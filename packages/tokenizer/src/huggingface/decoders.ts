// Decoders: token strings -> text, Hugging Face's decode_chain. Each decoder
// maps the list of token strings to a new list; the text is the last list
// joined. Llama 2's chain, on ["▁Hello", "▁", "<0xF0>", "<0x9F>", "<0x91>", "<0x8B>"]:
//
//   Replace("▁", " ")   [" Hello", " ", "<0xF0>", "<0x9F>", "<0x91>", "<0x8B>"]
//   ByteFallback         [" Hello", " ", "👋"]   (a run of byte tokens as UTF-8;
//                        if invalid, one U+FFFD per byte, as Hugging Face does)
//   Fuse                 [" Hello 👋"]
//   Strip(" ", 1, 0)     ["Hello 👋"]            (the space Metaspace added)
//
// Byte-level models use ByteLevel: every token's characters back to bytes
// (GPT-2's bytes_to_unicode), then UTF-8 (invalid bytes become U+FFFD).
// Supported: Sequence, Replace, ByteFallback, Fuse, Strip, Metaspace,
// ByteLevel; without a decoder, tokens are joined with spaces (Hugging Face's
// default). Any other type is one error naming it.
import { TokenizerError } from '../errors.js';
import { bytesToUnicode } from '../huggingface.js';
import { describeValue, expectArray, expectObject, expectString } from '../validate.js';
import { hfRegex } from './regex.js';

/** A decoder: token strings -> text. */
export type Decoder = (tokens: string[]) => string;
type Step = (tokens: string[]) => string[];

const SUPPORTED = 'Sequence, Replace, ByteFallback, Fuse, Strip, Metaspace, ByteLevel';
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const byteToken = /^<0x(?:[0-9a-fA-F]{2}|\+[0-9a-fA-F])>$/; // what Rust's u8::from_str_radix accepts in "<0x..>"

/** The decoder a tokenizer.json's `decoder` field describes. */
export function parseDecoder(json: unknown, trustPattern = false): Decoder {
  if (json === null || json === undefined) return (tokens) => tokens.join(' ');
  const step = parseStep(json, 'decoder', trustPattern);
  return (tokens) => step(tokens).join('');
}

function parseStep(json: unknown, where: string, trustPattern: boolean): Step {
  const d = expectObject(json, where);
  switch (d.type) {
    case 'Sequence': {
      const steps = expectArray(d.decoders, `${where}.decoders`).map((s, i) => parseStep(s, `${where}.decoders[${i}]`, trustPattern));
      return (tokens) => steps.reduce((t, step) => step(t), tokens);
    }
    case 'Replace': {
      const content = expectString(d.content, `${where}.content`);
      const pattern = expectObject(d.pattern, `${where}.pattern`);
      if (typeof pattern.String === 'string') {
        const from = pattern.String;
        return (tokens) => (from === '' ? tokens : tokens.map((t) => t.replaceAll(from, content)));
      }
      const regex = new RegExp(hfRegex(expectString(pattern.Regex, `${where}.pattern.Regex`), `${where}.pattern`, trustPattern), 'gu');
      return (tokens) => tokens.map((t) => t.replace(regex, () => content));
    }
    case 'ByteFallback':
      return byteFallback;
    case 'Fuse':
      return (tokens) => [tokens.join('')];
    case 'Strip': {
      const content = expectString(d.content, `${where}.content`, true);
      if (Array.from(content).length !== 1) throw new TokenizerError(`${where}.content: expected one character, found ${describeValue(content)}`);
      const [start, stop] = [count(d.start, `${where}.start`), count(d.stop, `${where}.stop`)];
      return (tokens) => tokens.map((t) => strip(t, content, start, stop));
    }
    case 'Metaspace': {
      const replacement = expectString(d.replacement ?? '▁', `${where}.replacement`, true);
      const scheme = d.prepend_scheme ?? (d.add_prefix_space === false ? 'never' : 'always');
      // As Hugging Face: in the first token every replacement character goes (it was the prepended space), unless prepend_scheme is "never".
      return (tokens) => tokens.map((t, i) => t.replaceAll(replacement, i === 0 && scheme !== 'never' ? '' : ' '));
    }
    case 'ByteLevel':
      return byteLevelDecoder();
    default:
      throw new TokenizerError(`${where}.type: expected a supported decoder (${SUPPORTED}), found ${describeValue(d.type)}`);
  }
}

function count(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new TokenizerError(`${where}: expected a count (an integer from 0), found ${describeValue(value)}`);
  return value;
}

/** Runs of "<0xNN>" tokens as the UTF-8 text of their bytes; one U+FFFD per byte if that is not valid UTF-8. */
function byteFallback(tokens: string[]): string[] {
  const out: string[] = [];
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length === 0) return;
    try {
      out.push(strictUtf8.decode(Uint8Array.from(bytes)));
    } catch {
      out.push('\ufffd'.repeat(bytes.length));
    }
    bytes = [];
  };
  for (const token of tokens) {
    if (token.startsWith('<0x') && byteToken.test(token)) { // the cheap test first: most tokens are not bytes
      bytes.push(parseInt(token.slice(3, -1), 16));
    } else {
      flush();
      out.push(token);
    }
  }
  flush();
  return out;
}

/** Remove up to `start` copies of content (one character) from the start of a token and up to `stop` from its end. */
function strip(token: string, content: string, start: number, stop: number): string {
  let a = 0;
  for (let i = 0; i < start && token.startsWith(content, a); i++) a += content.length;
  let b = token.length;
  for (let i = 0; i < stop && b - content.length >= a && token.endsWith(content, b); i++) b -= content.length;
  return token.slice(a, b);
}

/** Token strings whose bytes a ByteLevel decoder remembers, at most (the cache is cleared when full). */
const BYTE_CACHE_LIMIT = 100_000;

/**
 * Each token's characters as GPT-2's bytes (a token with other characters: its
 * own UTF-8), all decoded as one UTF-8 text. Tokens repeat, so each decoder
 * remembers their bytes.
 */
function byteLevelDecoder(): Step {
  const byteOf = new Map(bytesToUnicode().map((ch, b) => [ch, b]));
  const encoder = new TextEncoder();
  const cache = new Map<string, Uint8Array>();
  const spell = (token: string): Uint8Array => {
    const chars = Array.from(token);
    return chars.every((ch) => byteOf.has(ch)) ? Uint8Array.from(chars, (ch) => byteOf.get(ch)!) : encoder.encode(token);
  };
  return (tokens) => {
    const parts: Uint8Array[] = new Array(tokens.length);
    let total = 0;
    for (let i = 0; i < tokens.length; i++) {
      let bytes = cache.get(tokens[i]);
      if (bytes === undefined) {
        bytes = spell(tokens[i]);
        if (cache.size >= BYTE_CACHE_LIMIT) cache.clear();
        cache.set(tokens[i], bytes);
      }
      parts[i] = bytes;
      total += bytes.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const bytes of parts) for (let j = 0; j < bytes.length; j++) out[at++] = bytes[j];
    return [utf8.decode(out)];
  };
}
