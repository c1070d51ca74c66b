// Token labels for the two tokenizer styles of the Llama family, on the
// fixtures Hugging Face's `tokenizers` wrote (tooling/fixtures/hf_llama.py):
// llama's is sentencepiece-style with byte fallback, qwen2's byte-level.
// "€" and "🙂" are in neither vocabulary, so both spell them in bytes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BpeTokenizer, CharTokenizer } from '@tx/tokenizer';
import { labelPieces, pieceBytes, tokenLabels } from './tokens.js';

const fixture = (name: string) => BpeTokenizer.fromHuggingFace(JSON.parse(readFileSync(new URL(`../../../../packages/blocks/test/fixtures/hf-llama/${name}/tokenizer.json`, import.meta.url), 'utf8')));
const TEXT = 'The café costs 5 € 🙂 日本 ok';

describe('tokenLabels', () => {
  it('sentencepiece: ▁ is a space, <0xE2><0x82><0xAC> is € in three parts, <s> keeps its spelling', () => {
    const t = fixture('llama');
    const ids = t.encode(TEXT);
    expect(ids.map((id) => t.idToToken(id)).slice(11, 20)).toEqual(['▁', '<0xE2>', '<0x82>', '<0xAC>', '▁', '<0xF0>', '<0x9F>', '<0x99>', '<0x82>']);
    expect(tokenLabels(t, ids)).toEqual(['<s>', '␣', 'The', ' ca', 'f', 'é', ' c', 'ost', 's', '␣', '5', '␣', '€ 1/3', '€ 2/3', '€ 3/3', '␣',
      '🙂 1/4', '🙂 2/4', '🙂 3/4', '🙂 4/4', '␣', '日', '本', ' o', 'k']);
  });

  it('byte-level: Ġ is a space, "Ã©" is é, and characters split over tokens are grouped', () => {
    const t = fixture('qwen2');
    const ids = t.encode(TEXT);
    expect(ids.map((id) => t.idToToken(id)).slice(9, 13)).toEqual(['Ġ', 'â', 'Ĥ', '¬']);
    expect(tokenLabels(t, ids)).toEqual(['The', ' ca', 'f', 'é', ' c', 'ost', 's', '␣', '5', '␣', '€ 1/3', '€ 2/3', '€ 3/3', '␣',
      '🙂 1/4', '🙂 2/4', '🙂 3/4', '🙂 4/4', '␣', '日 1/3', '日 2/3', '日 3/3', '本 1/3', '本 2/3', '本 3/3', ' o', 'k']);
  });

  it('a byte that completes no character is ⟨E2⟩; a character tokenizer decodes as before', () => {
    const t = fixture('llama');
    const e2 = t.tokenToId('<0xE2>')!;
    expect(tokenLabels(t, [e2, t.tokenToId('▁the')!])).toEqual(['⟨E2⟩', ' the']);
    expect(labelPieces([{ bytes: Uint8Array.of(0x20, 0xe2) }, { text: '<s>' }])).toEqual([' ⟨E2⟩', '<s>']);
    expect(pieceBytes('<0x0A>', 'sentencepiece')).toEqual(Uint8Array.of(10));
    expect(pieceBytes('Ċ', 'byte-level')).toEqual(Uint8Array.of(10));
    const chars = new CharTokenizer(['a', 'b']);
    expect(tokenLabels(chars, chars.encode('ab'))).toEqual(['a', 'b']);
  });
});
