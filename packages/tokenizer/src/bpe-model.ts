// The byte-level BPE model: the bytes of every id, and the rule that says
// which adjacent pair of tokens merges first. Encoding a piece of text:
//
//   piece -> UTF-8 bytes -> one token per byte -> repeatedly merge the
//   adjacent pair with the lowest rank (leftmost on ties) -> ids
//
// Two rules for a pair's rank, one loop:
// - tiktoken ("ranks"): any two adjacent tokens whose concatenated bytes are
//   a token merge into it; the rank is that token's id. Pairs are looked up
//   lazily and remembered, so loading cl100k costs no pair table up front.
// - a merge list (our trainer, Hugging Face): only the listed pairs merge;
//   the rank is the position in the list.
//
// Short pieces merge with a plain scan (the common case: words are short).
// Long ones (a 100 kB line without spaces) use a heap over a linked list, so
// they cost O(n log n) instead of O(n^2).
import type { PatternName } from './patterns.js';
import { PairTable } from './pair-table.js';
import { TokenizerError } from './errors.js';
import { swapAt } from './swap.js';
import { bytesKey } from './utf8.js';

/** A pair that does not merge, as a rank: above every real rank. */
export const NONE = 0x7fffffff;
const MISSING = -2;
/** Pieces up to this many bytes use the O(n^2) scan; longer ones the heap. */
export const SCAN_LIMIT = 64;

/**
 * The scan both BPE loops use on short words (this file's bytes, Hugging Face's
 * symbols in huggingface/model.ts): merges ids[0, len) in place, the lowest
 * rank first and the leftmost on ties, and returns the length left. (Int32Array
 * only: one element kind keeps this loop monomorphic for both callers.)
 * `ranks` is scratch of at least len - 1 entries; `rank(a, b)` is NONE when the
 * pair does not merge, and `merged(r)` the id that rank r makes.
 */
export function mergeByScan(
  ids: Int32Array,
  ranks: Int32Array,
  len: number,
  rank: (a: number, b: number) => number,
  merged: (r: number) => number,
): number {
  for (let i = 0; i < len - 1; i++) ranks[i] = rank(ids[i], ids[i + 1]);
  while (len > 1) {
    let best = NONE;
    let at = -1;
    for (let i = 0; i < len - 1; i++) {
      if (ranks[i] < best) {
        best = ranks[i];
        at = i;
      }
    }
    if (at === -1) break;
    ids[at] = merged(best);
    ids.copyWithin(at + 1, at + 2, len);
    ranks.copyWithin(at, at + 1, len - 1);
    len--;
    if (at > 0) ranks[at - 1] = rank(ids[at - 1], ids[at]);
    if (at < len - 1) ranks[at] = rank(ids[at], ids[at + 1]);
  }
  return len;
}

export interface BpeModelSpec {
  /** The bytes of each id; null for ids that are special tokens or unused. */
  vocab: (Uint8Array | null)[];
  /** [left, right, merged] in priority order; null selects tiktoken's rule. */
  merges: readonly (readonly [number, number, number])[] | null;
}

/**
 * What a BpeTokenizer is made of: the split pattern, the bytes of each id, the
 * merges and the special tokens. Declared here, beside the model it carries,
 * so that its makers (train.ts, huggingface.ts) need not import bpe.ts, which
 * imports them.
 */
export interface BpeTokenizerSpec {
  /** Split pattern: 'gpt2', 'cl100k' or a regex source (JS syntax, used with the "gu" flags). */
  pattern: PatternName | string;
  /** The bytes of each id; null for special or unused ids. */
  vocab: (Uint8Array | null)[];
  /** [left, right, merged] in priority order; omit for tiktoken's rule (rank = id of the concatenated bytes). */
  merges?: readonly (readonly [number, number, number])[] | null;
  /** With merges: a piece that is a whole token is that token (tiktoken always does this). Default: true without merges, false with. */
  ignoreMerges?: boolean;
  specialTokens?: Readonly<Record<string, number>>;
}

export class BpeModel {
  /** All token bytes end to end; id i is bytes[offsets[i], offsets[i+1]). */
  readonly bytes: Uint8Array;
  readonly offsets: Int32Array;
  readonly byteToId = new Int32Array(256).fill(-1);
  readonly vocab: readonly (Uint8Array | null)[];
  readonly merges: readonly (readonly [number, number, number])[] | null;
  private readonly pairs: PairTable;
  private readonly rankToId: Int32Array | null;
  /** A Latin-1 key per id, and key -> id (the first id with those bytes). */
  private readonly keys: string[];
  private readonly keyToId = new Map<string, number>();
  // scratch buffers, grown on demand
  private ids = new Int32Array(256);
  private ranks = new Int32Array(256);
  // rank and merged, bound once for mergeByScan (no closure per piece).
  private readonly rankOf = (a: number, b: number): number => this.rank(a, b);
  private readonly mergedOf = (r: number): number => this.merged(r);

  constructor({ vocab, merges }: BpeModelSpec) {
    this.vocab = vocab;
    this.merges = merges;
    let total = 0;
    for (const b of vocab) total += b ? b.length : 0;
    this.bytes = new Uint8Array(total);
    this.offsets = new Int32Array(vocab.length + 1);
    let at = 0;
    for (let id = 0; id < vocab.length; id++) {
      this.offsets[id] = at;
      const b = vocab[id];
      if (!b) continue;
      if (b.length === 0) throw new TokenizerError(`expected every token to have at least one byte, found an empty token at id ${id}`);
      this.bytes.set(b, at);
      at += b.length;
      if (b.length === 1 && this.byteToId[b[0]] === -1) this.byteToId[b[0]] = id;
    }
    this.offsets[vocab.length] = at;
    const missing = this.byteToId.indexOf(-1);
    if (missing !== -1) {
      throw new TokenizerError(`expected a byte-level vocabulary with a token for each of the 256 bytes, found none for byte 0x${missing.toString(16).padStart(2, '0')}`);
    }

    this.keys = new Array<string>(vocab.length);
    for (let id = 0; id < vocab.length; id++) {
      const b = vocab[id];
      if (!b) continue;
      const key = bytesKey(b);
      this.keys[id] = key;
      if (!this.keyToId.has(key)) this.keyToId.set(key, id);
    }

    if (merges) {
      this.pairs = new PairTable(merges.length);
      this.rankToId = new Int32Array(merges.length);
      merges.forEach(([a, b, merged], rank) => {
        const [va, vb, vm] = [vocab[a], vocab[b], vocab[merged]];
        if (!va || !vb || !vm) {
          throw new TokenizerError(`merge ${rank}: expected ids of ordinary tokens, found [${a}, ${b}] -> ${merged}, which names an unknown or special id`);
        }
        if (vm.length !== va.length + vb.length || this.keys[merged] !== this.keys[a] + this.keys[b]) {
          throw new TokenizerError(`merge ${rank}: expected token ${merged} to be the bytes of ${a} followed by ${b}, found other bytes`);
        }
        if (this.pairs.get(a, b, MISSING) === MISSING) this.pairs.set(a, b, rank); // first listing wins
        this.rankToId![rank] = merged;
      });
    } else {
      this.pairs = new PairTable(4096);
      this.rankToId = null;
    }
  }

  get size(): number {
    return this.vocab.length;
  }

  /** The rank of the pair (a, b), or NONE if it does not merge. */
  private rank(a: number, b: number): number {
    const r = this.pairs.get(a, b, MISSING);
    if (r !== MISSING) return r === -1 ? NONE : r;
    if (this.rankToId !== null) return NONE; // merge list: the table is complete
    const id = this.keyToId.get(this.keys[a] + this.keys[b]);
    this.pairs.set(a, b, id === undefined ? -1 : id);
    return id === undefined ? NONE : id;
  }

  private merged(rank: number): number {
    return this.rankToId === null ? rank : this.rankToId[rank];
  }

  /** The id of a byte string (as a Latin-1 key), if it is a token. */
  idOfBytes(key: string): number | undefined {
    return this.keyToId.get(key);
  }

  /** Merge bytes[0, n) and push the ids onto out. */
  encodeBytes(bytes: Uint8Array, n: number, out: number[], scanLimit = SCAN_LIMIT): void {
    if (n === 1) {
      out.push(this.byteToId[bytes[0]]);
      return;
    }
    if (n > scanLimit) {
      this.encodeLong(bytes, n, out);
      return;
    }
    if (this.ids.length < n) {
      this.ids = new Int32Array(n * 2);
      this.ranks = new Int32Array(n * 2);
    }
    const ids = this.ids;
    const ranks = this.ranks;
    for (let i = 0; i < n; i++) ids[i] = this.byteToId[bytes[i]];
    const len = mergeByScan(ids, ranks, n, this.rankOf, this.mergedOf);
    for (let i = 0; i < len; i++) out.push(ids[i]);
  }

  // Long pieces: the heap (mergeByHeap), the same merges as the scan in O(n log n).
  private encodeLong(bytes: Uint8Array, n: number, out: number[]): void {
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = this.byteToId[bytes[i]];
    mergeByHeap(ids, out, this.rankOf, this.mergedOf);
  }
}

/**
 * The heap both BPE loops use on long words (mergeByScan's counterpart): the
 * same merges, the lowest rank first and the leftmost on ties, in O(n log n),
 * with a binary heap of (rank, position) over a doubly linked list of parts.
 * A heap entry is stale once either part of its pair changed; a version
 * number per position detects that. Merges `ids` in place and pushes the ids
 * left onto `out`; `rank` and `merged` as for mergeByScan.
 */
export function mergeByHeap(ids: Int32Array, out: number[], rank: (a: number, b: number) => number, merged: (r: number) => number): void {
  const n = ids.length;
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const ver = new Int32Array(n);
  const heap = new MinHeap(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  for (let i = 0; i < n - 1; i++) {
    const r = rank(ids[i], ids[i + 1]);
    if (r !== NONE) heap.push(r, i, 0);
  }
  while (heap.size > 0) {
    const r = heap.topRank();
    const p = heap.topPos();
    const v = heap.topVer();
    heap.pop();
    if (ver[p] !== v) continue;
    const q = next[p];
    ids[p] = merged(r);
    next[p] = next[q];
    if (next[q] !== -1) prev[next[q]] = p;
    ver[q]++;
    ver[p]++;
    const l = prev[p];
    if (l !== -1) {
      ver[l]++;
      const rl = rank(ids[l], ids[p]);
      if (rl !== NONE) heap.push(rl, l, ver[l]);
    }
    if (next[p] !== -1) {
      const rr = rank(ids[p], ids[next[p]]);
      if (rr !== NONE) heap.push(rr, p, ver[p]);
    }
  }
  for (let i = 0; i !== -1; i = next[i]) out.push(ids[i]);
}

/** A binary min-heap of (rank, position, version), ordered by rank then position. */
class MinHeap {
  private rank: Int32Array;
  private pos: Int32Array;
  private ver: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.rank = new Int32Array(capacity + 1);
    this.pos = new Int32Array(capacity + 1);
    this.ver = new Int32Array(capacity + 1);
  }

  private less(i: number, j: number): boolean {
    return this.rank[i] < this.rank[j] || (this.rank[i] === this.rank[j] && this.pos[i] < this.pos[j]);
  }

  private swap(i: number, j: number): void {
    swapAt(this.rank, i, j);
    swapAt(this.pos, i, j);
    swapAt(this.ver, i, j);
  }

  push(r: number, p: number, v: number): void {
    if (this.size === this.rank.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.rank = grow(this.rank);
      this.pos = grow(this.pos);
      this.ver = grow(this.ver);
    }
    let i = this.size++;
    this.rank[i] = r;
    this.pos[i] = p;
    this.ver[i] = v;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  topRank(): number {
    return this.rank[0];
  }
  topPos(): number {
    return this.pos[0];
  }
  topVer(): number {
    return this.ver[0];
  }

  pop(): void {
    const last = --this.size;
    this.rank[0] = this.rank[last];
    this.pos[0] = this.pos[last];
    this.ver[0] = this.ver[last];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.size && this.less(l, m)) m = l;
      if (r < this.size && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}
