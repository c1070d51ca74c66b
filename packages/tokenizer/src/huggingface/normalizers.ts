// Normalizers: text -> text before anything is split. Hugging Face runs the
// normalizer on each stretch of text between added tokens (added-tokens.ts),
// so Llama 2's Prepend("▁") puts a "▁" at the start of every stretch, not only
// at the start of the text. We keep only the resulting text (ids need no
// offsets). Supported: Sequence, Prepend, Append, Replace (a string, or a
// regex as Split's), NFC, NFD, NFKC, NFKD, Lowercase, Strip; any other type
// is one error naming it.
import { TokenizerError } from '../errors.js';
import { describeValue, expectArray, expectObject, expectString } from '../validate.js';
import { hfRegex, WHITE_SPACE } from './regex.js';

/** A normalizer: the text it makes of a stretch of text. */
export type Normalizer = (text: string) => string;

const SUPPORTED = 'Sequence, Prepend, Append, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip';
const leadingSpace = new RegExp(`^[${WHITE_SPACE}]+`, 'u');
const trailingSpace = new RegExp(`[${WHITE_SPACE}]+$`, 'u');

/** The normalizer a tokenizer.json's `normalizer` field describes (null: none). */
export function parseNormalizer(json: unknown, where = 'normalizer', trustPattern = false): Normalizer | null {
  if (json === null || json === undefined) return null;
  const n = expectObject(json, where);
  switch (n.type) {
    case 'Sequence': {
      const steps = expectArray(n.normalizers, `${where}.normalizers`).map((s, i) => parseNormalizer(s, `${where}.normalizers[${i}]`, trustPattern));
      const active = steps.filter((s): s is Normalizer => s !== null);
      return active.length === 0 ? null : (text) => active.reduce((t, step) => step(t), text);
    }
    case 'Prepend': {
      const prefix = expectString(n.prepend, `${where}.prepend`);
      return (text) => (text === '' ? text : prefix + text);
    }
    case 'Append': {
      const suffix = expectString(n.append, `${where}.append`);
      return (text) => (text === '' ? text : text + suffix);
    }
    case 'Replace': {
      const content = expectString(n.content, `${where}.content`);
      const pattern = expectObject(n.pattern, `${where}.pattern`);
      if (typeof pattern.String === 'string') {
        const from = pattern.String;
        return from === '' ? (text) => text : (text) => text.replaceAll(from, content);
      }
      const regex = new RegExp(hfRegex(expectString(pattern.Regex, `${where}.pattern.Regex`), `${where}.pattern`, trustPattern), 'gu');
      return (text) => text.replace(regex, () => content);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = n.type;
      return (text) => text.normalize(form);
    }
    case 'Lowercase':
      return (text) => text.toLowerCase();
    case 'Strip': {
      const left = n.strip_left ?? true;
      const right = n.strip_right ?? true;
      return (text) => {
        let t = left ? text.replace(leadingSpace, '') : text;
        t = right ? t.replace(trailingSpace, '') : t;
        return t;
      };
    }
    default:
      throw new TokenizerError(`${where}.type: expected a supported normalizer (${SUPPORTED}), found ${describeValue(n.type)}`);
  }
}
