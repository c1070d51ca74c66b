// Parity with Hugging Face's `tokenizers` (0.23.2) on tokenizers it trained
// and wrote itself (tooling/fixtures/hf_tokenizers.py): Llama 2 style
// sentencepiece BPEs (Metaspace, or the Prepend + Replace normalizer), and
// byte-level BPEs with Llama 3's, Qwen2's and SmolLM's pre-tokenizers. For
// every text: the ids of encode (with and without the post-processor), the
// decoded text (special tokens skipped and kept), the pre-tokenizer's pieces,
// and a text stream that concatenates to decode without a U+FFFD mid-stream.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bytesToUnicode } from '../huggingface.js';
import { loadTokenizer } from '../load.js';
import { HuggingFaceTokenizer } from './tokenizer.js';
import { parsePreTokenizer } from './pre-tokenizers.js';
import { parseNormalizer } from './normalizers.js';

interface Case {
  text: string;
  ids: number[];
  ids_no_special: number[];
  decoded: string;
  decoded_with_special: string;
  pieces: string[];
}
interface Fixture {
  tokenizer: Record<string, unknown> & { model: Record<string, unknown> };
  cases: Case[];
  pairs: { a: string; b: string; ids: number[] }[];
  special_as_text: { text: string; ids: number[] }[];
  variants: { name: string; pre_tokenizer: unknown; ids: (number[] | null)[]; decoded: (string | null)[] }[];
  broken: { ids: number[]; decoded: string }[];
  decoders: { name: string; decoder: unknown; decoded: (string | null)[] }[];
}

const read = (name: string): Fixture => JSON.parse(readFileSync(new URL(`../../test/fixtures/hf-${name}.json`, import.meta.url), 'utf8'));
const STYLES = ['llama2-metaspace', 'llama2-normalizer', 'llama3', 'qwen2', 'smollm'];

/** Every push of a stream, and whether one showed U+FFFD before the end. */
function stream(tok: HuggingFaceTokenizer, ids: number[], options = {}) {
  const s = tok.textStream(options);
  const parts = ids.map((id) => s.push(id));
  return { text: parts.join('') + s.flush(), replacement: parts.some((p) => p.includes('\ufffd')) };
}

describe.each(STYLES)('Hugging Face parity: %s', (name) => {
  const fixture = read(name);
  const tok = HuggingFaceTokenizer.fromJSON(fixture.tokenizer);

  it(`encodes all ${fixture.cases.length} texts to Hugging Face's ids, with and without the post-processor`, () => {
    const mismatches = fixture.cases.filter((c) => JSON.stringify(tok.encode(c.text)) !== JSON.stringify(c.ids));
    expect(mismatches.map((c) => [c.text, tok.encode(c.text), c.ids])).toEqual([]);
    for (const c of fixture.cases) expect(tok.encode(c.text, { addSpecialTokens: false }), JSON.stringify(c.text)).toEqual(c.ids_no_special);
  });

  it("splits every text into the pre-tokenizer's pieces", () => {
    const normalize = parseNormalizer(fixture.tokenizer.normalizer);
    const pre = parsePreTokenizer(fixture.tokenizer.pre_tokenizer);
    const spell = bytesToUnicode();
    for (const c of fixture.cases) {
      const text = normalize ? normalize(c.text) : c.text;
      let pieces: string[] = [];
      if (text !== '') pre.split(text, true, (p) => pieces.push(p));
      if (pre.byteLevel) pieces = pieces.map((p) => Array.from(new TextEncoder().encode(p), (b) => spell[b]).join(''));
      expect(pieces, JSON.stringify(c.text)).toEqual(c.pieces.filter((p) => p !== ''));
    }
  });

  it("decodes as Hugging Face's decode, special tokens skipped and kept", () => {
    for (const c of fixture.cases) {
      expect(tok.decode(c.ids), JSON.stringify(c.text)).toBe(c.decoded);
      expect(tok.decode(c.ids, { skipSpecialTokens: false }), JSON.stringify(c.text)).toBe(c.decoded_with_special);
    }
  });

  it('decodes ids that cut a character as Hugging Face does (its U+FFFD per byte of a broken run)', () => {
    for (const b of fixture.broken) expect(tok.decode(b.ids), JSON.stringify(b.ids)).toBe(b.decoded);
  });

  it.each(fixture.decoders.map((d) => [d.name, d] as const))('decoder %s decodes as Hugging Face', (_, variant) => {
    const t = HuggingFaceTokenizer.fromJSON({ ...fixture.tokenizer, decoder: variant.decoder });
    fixture.cases.forEach((c, i) => variant.decoded[i] !== null && expect(t.decode(c.ids, { skipSpecialTokens: false }), JSON.stringify(c.text)).toBe(variant.decoded[i]));
  });

  it('streams text that concatenates to decode, with no U+FFFD mid-stream', () => {
    for (const c of fixture.cases) {
      for (const options of [{}, { skipSpecialTokens: false }]) {
        const { text, replacement } = stream(tok, c.ids, options);
        expect(text, JSON.stringify(c.text)).toBe(tok.decode(c.ids, options));
        if (!c.text.includes('\ufffd')) expect(replacement, JSON.stringify(c.text)).toBe(false);
      }
    }
  });

  it('encodes pairs with the pair template, and special tokens as text when not allowed', () => {
    for (const p of fixture.pairs) expect(tok.encodePair(p.a, p.b), JSON.stringify(p)).toEqual(p.ids);
    for (const c of fixture.special_as_text) expect(tok.encode(c.text, { allowedSpecial: 'none' }), JSON.stringify(c.text)).toEqual(c.ids);
  });

  it.each(fixture.variants.map((v) => [v.name, v] as const))('variant %s: ids and decode', (_, variant) => {
    const t = HuggingFaceTokenizer.fromJSON({ ...fixture.tokenizer, pre_tokenizer: variant.pre_tokenizer });
    fixture.cases.forEach((c, i) => {
      const ids = variant.ids[i];
      if (ids === null) return; // texts over 80 characters are checked with the file's own pre-tokenizer only
      expect(t.encode(c.text), JSON.stringify(c.text)).toEqual(ids);
      expect(t.decode(ids), JSON.stringify(c.text)).toBe(variant.decoded[i]);
    });
  });

  it('loads through loadTokenizer, and back from its toJSON', () => {
    const again = loadTokenizer(JSON.parse(JSON.stringify(tok)));
    for (const c of fixture.cases.slice(0, 10)) expect(again.encode(c.text)).toEqual(c.ids);
  });
});
