// Reading tiktoken's ranks. Two shapes:
// - a `.tiktoken` file: one token per line, `<base64 bytes> <rank>`;
// - js-tiktoken's rank objects (`js-tiktoken/ranks/gpt2`, ...):
//   { pat_str, special_tokens, bpe_ranks }, where bpe_ranks packs the tokens
//   as lines of `<anything> <first rank> <base64> <base64> ...`, the tokens of
//   a line taking consecutive ranks.
// In tiktoken a token's rank is its id.
import { TokenizerError } from './errors.js';
import { fromBase64 } from './utf8.js';

/** The shape of js-tiktoken's rank objects. */
export interface TiktokenRanks {
  pat_str?: string;
  special_tokens?: Record<string, number>;
  bpe_ranks: string;
}

export interface ParsedTiktoken {
  vocab: (Uint8Array | null)[];
  pattern?: string;
  specialTokens?: Record<string, number>;
}

export function parseTiktoken(ranks: string | TiktokenRanks): ParsedTiktoken {
  const vocab: (Uint8Array | null)[] = [];
  const put = (id: number, b64: string, line: number) => {
    const bytes = fromBase64(b64);
    if (!bytes || bytes.length === 0) throw new TokenizerError(`tiktoken ranks, line ${line}: expected a base64 token, found ${JSON.stringify(b64)}`);
    if (vocab[id]) throw new TokenizerError(`tiktoken ranks, line ${line}: expected each rank once, found rank ${id} again`);
    while (vocab.length < id) vocab.push(null);
    vocab[id] = bytes;
  };
  if (typeof ranks === 'string') {
    ranks.split('\n').forEach((text, i) => {
      if (text.trim() === '') return;
      const parts = text.trim().split(' ');
      const rank = Number(parts[1]);
      if (parts.length !== 2 || !Number.isInteger(rank) || rank < 0) {
        throw new TokenizerError(`.tiktoken text, line ${i + 1}: expected "<base64> <rank>", found ${JSON.stringify(text.slice(0, 80))}`);
      }
      put(rank, parts[0], i + 1);
    });
    return { vocab };
  }
  if (typeof ranks?.bpe_ranks !== 'string') {
    throw new TokenizerError(`expected .tiktoken text or a js-tiktoken rank object with a "bpe_ranks" string, found ${ranks === null ? 'null' : typeof ranks}${ranks && typeof ranks === 'object' ? ` with keys ${Object.keys(ranks).join(', ')}` : ''}`);
  }
  ranks.bpe_ranks.split('\n').forEach((text, i) => {
    if (text === '') return;
    const [, first, ...tokens] = text.split(' ');
    const offset = Number(first);
    if (!Number.isInteger(offset) || offset < 0) throw new TokenizerError(`js-tiktoken bpe_ranks, line ${i + 1}: expected a first rank, found ${JSON.stringify(first)}`);
    tokens.forEach((b64, k) => put(offset + k, b64, i + 1));
  });
  return { vocab, pattern: ranks.pat_str, specialTokens: ranks.special_tokens };
}
