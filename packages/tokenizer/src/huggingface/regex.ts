// Hugging Face's regexes in JS. tokenizers compiles a Split pattern (and
// ByteLevel's own) with Oniguruma, whose syntax differs from JS RegExp's (with
// the `u` flag) in three ways that real files use:
//
// 1. `\s` is Unicode White_Space: it includes U+0085 (NEL) and excludes
//    U+FEFF (BOM), the reverse of JS. We spell `\s` and `\S` as that class, so
//    " \uFEFFstart" splits as Hugging Face splits it (" \uFEFF", "start").
// 2. `(?i:...)`, a case-insensitive group (Llama 3's and Qwen2's contractions),
//    which JS (before V8 12.5) lacks. Its letters are spelled out, `[sS]`.
// 3. Possessive quantifiers `?+`, `++` (tiktoken's cl100k): refused with a
//    hint by compilePattern (patterns.ts explains when dropping them is safe).
//
// Llama 3's and Qwen2's patterns are known by their exact text and replaced
// by hand-written JS forms below, which factor the quote out of the
// contractions so that the static safety check's reasoning applies; the
// fixtures check them piece by piece against Hugging Face's pre-tokenizer.
// Any other pattern is rewritten by the rules above and then checked like any
// pattern from a file (patterns.ts: checkSplitPattern).
import { TokenizerError } from '../errors.js';
import { GPT2_PATTERN, checkSplitPattern } from '../patterns.js';

/** Unicode White_Space, what `\s` means to Oniguruma (and to Rust's regex). */
export const WHITE_SPACE = '\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';

/** Llama 3's split pattern as its tokenizer.json writes it (Oniguruma syntax). */
export const LLAMA3_PATTERN_HF = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** Qwen2's (and Qwen2.5's): Llama 3's with one digit per piece. */
export const QWEN2_PATTERN_HF = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const S = `[${WHITE_SPACE}]`;
const NOT_S = `[^${WHITE_SPACE}]`;
const CONTRACTIONS = "'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])";

/** Llama 3's pattern in JS. */
export const LLAMA3_PATTERN = `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^${WHITE_SPACE}\\p{L}\\p{N}]+[\\r\\n]*|${S}*[\\r\\n]+|${S}+(?!${NOT_S})|${S}+`;
/** Qwen2's pattern in JS. */
export const QWEN2_PATTERN = `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^${WHITE_SPACE}\\p{L}\\p{N}]+[\\r\\n]*|${S}*[\\r\\n]+|${S}+(?!${NOT_S})|${S}+`;
/** GPT-2's pattern as Hugging Face's ByteLevel pre-tokenizer runs it (Oniguruma's `\s`). */
export const BYTE_LEVEL_PATTERN = toJsRegex(GPT2_PATTERN, 'ByteLevel');

const KNOWN = new Map([
  [LLAMA3_PATTERN_HF, LLAMA3_PATTERN],
  [QWEN2_PATTERN_HF, QWEN2_PATTERN],
]);

/** Split patterns trusted by name (the static check cannot see why `\s*[\r\n]+` is safe; cl100k's has it too). */
export const KNOWN_HF_PATTERNS: readonly string[] = [LLAMA3_PATTERN, QWEN2_PATTERN, BYTE_LEVEL_PATTERN];

/** A Hugging Face (Oniguruma) regex as a checked JS regex source; `where` names the field in errors. */
export function hfRegex(source: string, where: string, trustPattern = false): string {
  const js = KNOWN.get(source) ?? toJsRegex(source, where);
  if (KNOWN_HF_PATTERNS.includes(js)) return js;
  return checkSplitPattern(js, { where, trustPattern });
}

/** Rewrite `\s`, `\S` and `(?i:literals)` as JS spells them (see the header). */
export function toJsRegex(source: string, where: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const next = source[i + 1];
      if (next === 's') out += inClass ? WHITE_SPACE : S;
      else if (next === 'S' && !inClass) out += NOT_S;
      else if (next === 'S') throw new TokenizerError(`${where}: pattern ${JSON.stringify(source)} has \\S inside a character class, which cannot be rewritten for JS`);
      else out += c + (next ?? '');
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (source.startsWith('(?i:', i)) {
      const end = source.indexOf(')', i);
      const body = source.slice(i + 4, end);
      if (end === -1 || /[\\[\](){}*+?.^$]/.test(body)) {
        throw new TokenizerError(`${where}: pattern ${JSON.stringify(source)} has a (?i:...) group that is not a list of literal words, which cannot be rewritten for JS`);
      }
      out += `(?:${body.replace(/\p{L}/gu, (ch) => (ch.toLowerCase() === ch.toUpperCase() ? ch : `[${ch.toLowerCase()}${ch.toUpperCase()}]`))})`;
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}
