// Our ids equal js-tiktoken's, token for token, with GPT-2 (r50k_base) and
// cl100k_base ranks: on the whole of Tiny Shakespeare and on tricky strings.
import { describe, expect, it } from 'vitest';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import gpt2 from 'js-tiktoken/ranks/gpt2';
import r50k from 'js-tiktoken/ranks/r50k_base';
import { BpeTokenizer } from './bpe.js';
import { LONE_SURROGATES, TRICKY, tinyShakespeare } from '../test/corpus.js';

const encodings = [
  ['gpt2', gpt2],
  ['cl100k_base', cl100k],
] as const;

/** Index and neighbourhood of the first difference, so a failure says where. */
function firstDiff(a: number[], b: number[]): string | null {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `at ${i}: ours ${JSON.stringify(a.slice(i, i + 5))}, js-tiktoken ${JSON.stringify(b.slice(i, i + 5))}`;
  return null;
}

describe.each(encodings)('parity with js-tiktoken, %s', (_name, ranks) => {
  const ours = BpeTokenizer.fromTiktoken(ranks);
  const ref = new Tiktoken(ranks);

  it('encodes all of Tiny Shakespeare to the same ids, and decodes them back', () => {
    const text = tinyShakespeare();
    const ids = ours.encode(text);
    expect(firstDiff(ids, ref.encode(text))).toBeNull();
    expect(ours.decode(ids)).toBe(text);
  });

  it('encodes every tricky string to the same ids', () => {
    for (const text of TRICKY) {
      const ids = ours.encode(text);
      expect(firstDiff(ids, ref.encode(text, [], [])), JSON.stringify(text)).toBeNull();
      expect(ours.decode(ids)).toBe(text);
    }
  });

  it('encodes all tricky strings joined, cold and warm (cache), to the same ids', () => {
    const text = TRICKY.join(' | ');
    const expected = ref.encode(text, [], []);
    expect(firstDiff(BpeTokenizer.fromTiktoken(ranks).encode(text), expected)).toBeNull();
    expect(firstDiff(ours.encode(text), expected)).toBeNull();
  });

  it('encodes lone surrogates like js-tiktoken (as U+FFFD) without throwing', () => {
    for (const text of LONE_SURROGATES) {
      expect(firstDiff(ours.encode(text), ref.encode(text, [], [])), JSON.stringify(text)).toBeNull();
      expect(ours.decode(ours.encode(text))).toBe(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
    }
  });

  it("'<|endoftext|>' is plain text by default and the special id when allowed", () => {
    const text = 'Hello<|endoftext|> world<|endoftext|>';
    const eot = ranks.special_tokens['<|endoftext|>'];
    const plain = ours.encode(text);
    expect(plain).toEqual(ref.encode(text, [], []));
    expect(plain).not.toContain(eot);
    expect(ours.decode(plain)).toBe(text);
    for (const allowed of ['all', ['<|endoftext|>']] as const) {
      const special = ours.encode(text, { allowedSpecial: allowed });
      expect(special).toEqual(ref.encode(text, 'all'));
      expect(special.filter((id) => id === eot)).toHaveLength(2);
      expect(ours.decode(special)).toBe(text);
    }
    expect(ours.encode(text, { allowedSpecial: 'none' })).toEqual(plain);
  });
});

describe('r50k_base', () => {
  it('is GPT-2: the same ids on the tricky strings', () => {
    const a = BpeTokenizer.fromTiktoken(r50k);
    const b = BpeTokenizer.fromTiktoken(gpt2);
    for (const text of TRICKY) expect(a.encode(text)).toEqual(b.encode(text));
  });
});

describe('cl100k special tokens', () => {
  it('allows a chosen subset and leaves the others as text', () => {
    const tok = BpeTokenizer.fromTiktoken(cl100k);
    const ref = new Tiktoken(cl100k);
    const text = '<|fim_prefix|>def f():<|fim_suffix|>\n<|endoftext|>';
    expect(tok.encode(text, { allowedSpecial: ['<|fim_prefix|>', '<|fim_suffix|>'] })).toEqual(ref.encode(text, ['<|fim_prefix|>', '<|fim_suffix|>'], []));
    expect(tok.vocabSize).toBe(100277);
  });
});
