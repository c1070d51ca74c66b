// GPT-2's tokenizer.json rebuilt from js-tiktoken's ranks (no download): the
// vocabulary spelled with bytes_to_unicode, and each token's merge recovered
// as the last step of BPE on its own bytes using only lower ranks (how
// tiktoken's converter recovers vocab.bpe). The same construction as the
// test in src/huggingface.test.ts, which checks it against js-tiktoken.
import gpt2 from 'js-tiktoken/ranks/gpt2';
import { bytesToUnicode } from '../dist/index.js';

export function gpt2TokenizerJson() {
  const u = bytesToUnicode();
  const spell = (s) => Array.from(Buffer.from(s, 'base64'), (b) => u[b]).join('');
  const tokens = []; // id -> spelled token
  for (const line of gpt2.bpe_ranks.split('\n')) {
    const [, first, ...b64s] = line.split(' '); // "<ignored> <first rank> <base64 token>..."
    let id = Number(first);
    for (const b64 of b64s) tokens[id++] = spell(b64);
  }
  const rankOf = new Map(tokens.map((t, i) => [t, i]));
  const merges = [];
  tokens.forEach((token, rank) => {
    let parts = Array.from(token);
    if (parts.length < 2) return;
    while (parts.length > 2) {
      let best = -1;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = rankOf.get(parts[i] + parts[i + 1]);
        if (r !== undefined && r < rank && (best === -1 || r < rankOf.get(parts[best] + parts[best + 1]))) best = i;
      }
      parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
    }
    merges.push(parts.join(' '));
  });
  return {
    added_tokens: [{ id: 50256, content: '<|endoftext|>', special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', vocab: Object.fromEntries([...rankOf, ['<|endoftext|>', 50256]]), merges },
  };
}
