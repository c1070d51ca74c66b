// Reading tiktoken's ranks. Two shapes:
// - a `.tiktoken` file: one token per line, `<base64 bytes> <rank>`;
// - js-tiktoken's rank objects (`js-tiktoken/ranks/gpt2`, ...):
//   { pat_str, special_tokens, bpe_ranks }, where bpe_ranks packs the tokens
//   as lines of `<anything> <first rank> <base64> <base64> ...`, the tokens of
//   a line taking consecutive ranks.
// In tiktoken a token's rank is its id.
import { TokenizerError } from './errors.js';
import { fromBase64 } from './utf8.js';
import { MAX_GAP, describeValue, expectObject, idLimit } from './validate.js';

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
  // First every (rank, token) pair, then the vocabulary: a rank may be at most
  // MAX_GAP past the number of tokens, so a file cannot make us allocate more
  // than it is long.
  const ranksOf: number[] = [];
  const tokens: string[] = [];
  const lines: number[] = [];
  let pattern: string | undefined;
  let specialTokens: Record<string, number> | undefined;
  if (typeof ranks === 'string') {
    ranks.split('\n').forEach((text, i) => {
      if (text.trim() === '') return;
      const parts = text.trim().split(' ');
      const rank = Number(parts[1]);
      if (parts.length !== 2 || !Number.isInteger(rank) || rank < 0) {
        throw new TokenizerError(`.tiktoken text, line ${i + 1}: expected "<base64> <rank>", found ${JSON.stringify(text.slice(0, 80))}`);
      }
      ranksOf.push(rank);
      tokens.push(parts[0]);
      lines.push(i + 1);
    });
  } else {
    if (typeof ranks?.bpe_ranks !== 'string') {
      throw new TokenizerError(`expected .tiktoken text or a js-tiktoken rank object with a "bpe_ranks" string, found ${ranks === null ? 'null' : typeof ranks}${ranks && typeof ranks === 'object' ? ` with keys ${Object.keys(ranks).join(', ')}` : ''}`);
    }
    if (ranks.pat_str !== undefined && typeof ranks.pat_str !== 'string') throw new TokenizerError(`pat_str: expected a regex source string, found ${describeValue(ranks.pat_str)}`);
    if (ranks.special_tokens !== undefined) specialTokens = expectObject(ranks.special_tokens, 'special_tokens') as Record<string, number>;
    pattern = ranks.pat_str;
    ranks.bpe_ranks.split('\n').forEach((text, i) => {
      if (text === '') return;
      const [, first, ...b64s] = text.split(' ');
      const offset = Number(first);
      if (!Number.isInteger(offset) || offset < 0) throw new TokenizerError(`js-tiktoken bpe_ranks, line ${i + 1}: expected a first rank, found ${JSON.stringify(first)}`);
      b64s.forEach((b64, k) => {
        ranksOf.push(offset + k);
        tokens.push(b64);
        lines.push(i + 1);
      });
    });
  }
  const limit = idLimit(tokens.length);
  const vocab: (Uint8Array | null)[] = [];
  ranksOf.forEach((rank, k) => {
    const line = lines[k];
    if (rank > limit) throw new TokenizerError(`tiktoken ranks, line ${line}: expected a rank from 0 to ${limit} (at most ${MAX_GAP} past the ${tokens.length} tokens), found ${rank}`);
    const bytes = fromBase64(tokens[k]);
    if (!bytes || bytes.length === 0) throw new TokenizerError(`tiktoken ranks, line ${line}: expected a base64 token, found ${describeValue(tokens[k])}`);
    if (vocab[rank]) throw new TokenizerError(`tiktoken ranks, line ${line}: expected each rank once, found rank ${rank} again`);
    while (vocab.length < rank) vocab.push(null);
    vocab[rank] = bytes;
  });
  return typeof ranks === 'string' ? { vocab } : { vocab, pattern, specialTokens };
}
