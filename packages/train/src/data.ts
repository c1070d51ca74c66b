// Batches for training: random language-model windows (nanoGPT's get_batch),
// padded sequence-to-sequence pairs, and padded pointer examples (a sequence,
// a query position and the position it should point at).
import { checkIds } from '@tx/blocks';
import { TxError, ValueError, type Rng } from '@tx/core';

/** A language-model batch: inputs and their next-token targets, row-major [batchSize, blockSize]. */
export interface Batch {
  /** Inputs, row-major [batchSize, blockSize]. */
  x: Int32Array;
  /** Targets: x shifted left by one. */
  y: Int32Array;
  batchSize: number;
  blockSize: number;
}

/** A token stream split into train (first fraction) and val (the rest), as nanoGPT splits Shakespeare. */
export class TokenDataset {
  readonly train: Int32Array;
  readonly val: Int32Array;

  /** With `vocabSize`, every id is checked once here, where the data enters (the model reads none back). */
  constructor(tokens: ArrayLike<number>, { trainFraction = 0.9, name = 'dataset', vocabSize }: { trainFraction?: number; name?: string; vocabSize?: number } = {}) {
    if (tokens.length === 0) throw new TxError(`${name} is empty: there is nothing to train on`);
    if (!(trainFraction > 0 && trainFraction <= 1)) throw new ValueError(`trainFraction must be in (0, 1], got ${trainFraction}`);
    if (vocabSize !== undefined) checkIds(tokens, vocabSize, name); // before Int32Array.from, which would truncate 1.5 and wrap 2^32
    const all = Int32Array.from(tokens);
    const n = Math.floor(all.length * trainFraction);
    this.train = all.subarray(0, n);
    this.val = all.subarray(n);
  }

  /**
   * batchSize windows of blockSize + 1 tokens at random offsets of the split,
   * drawn from rng (so batches repeat under a seed).
   */
  batch(split: 'train' | 'val', batchSize: number, blockSize: number, rng: Rng): Batch {
    const data = this[split];
    if (data.length < blockSize + 1) {
      throw new TxError(`the ${split} split has ${data.length} tokens, fewer than context + 1 = ${blockSize + 1}: use more data or a shorter context`);
    }
    const x = new Int32Array(batchSize * blockSize);
    const y = new Int32Array(batchSize * blockSize);
    for (let b = 0; b < batchSize; b++) {
      const start = rng.int(data.length - blockSize);
      x.set(data.subarray(start, start + blockSize), b * blockSize);
      y.set(data.subarray(start + 1, start + blockSize + 1), b * blockSize);
    }
    return { x, y, batchSize, blockSize };
  }
}

/** A seq2seq batch: padded sources, decoder inputs and decoder targets. */
export interface Seq2SeqBatch {
  /** Source ids [B, S], padded with padId. */
  src: Int32Array;
  /** Decoder inputs [B, T]: bos followed by the target, padded. */
  tgtIn: Int32Array;
  /** Decoder targets [B, T]: the target followed by eos, padded with padId (ignored by the loss). */
  tgtOut: Int32Array;
  /** 1 where src is a real token, 0 at padding [B, S]. */
  srcMask: Uint8Array;
  /** 1 where tgtIn is a real token, 0 at padding [B, T]. */
  tgtMask: Uint8Array;
  batchSize: number;
  srcLength: number;
  tgtLength: number;
}

/** Pad pairs of (source ids, target ids) into one batch, to the longest sequence in it. */
export function seq2seqBatch(pairs: Array<[number[], number[]]>, { padId, bosId, eosId }: { padId: number; bosId: number; eosId: number }): Seq2SeqBatch {
  if (pairs.length === 0) throw new TxError('seq2seqBatch: no pairs given');
  const B = pairs.length;
  const S = Math.max(...pairs.map(([s]) => s.length));
  const T = Math.max(...pairs.map(([, t]) => t.length)) + 1;
  const src = new Int32Array(B * S).fill(padId);
  const tgtIn = new Int32Array(B * T).fill(padId);
  const tgtOut = new Int32Array(B * T).fill(padId);
  const srcMask = new Uint8Array(B * S);
  const tgtMask = new Uint8Array(B * T);
  pairs.forEach(([s, t], b) => {
    src.set(s, b * S);
    srcMask.fill(1, b * S, b * S + s.length);
    tgtIn.set([bosId, ...t], b * T);
    tgtOut.set([...t, eosId], b * T);
    tgtMask.fill(1, b * T, b * T + t.length + 1);
  });
  return { src, tgtIn, tgtOut, srcMask, tgtMask, batchSize: B, srcLength: S, tgtLength: T };
}

/** A batch for a pointer model: token ids, padding, the query positions and their target positions. */
export interface PointerBatch {
  /** Token ids [B, T], padded with padId. */
  ids: Int32Array;
  /** 1 where ids is padding, 0 at real tokens [B, T]. */
  pad: Uint8Array;
  /** The query position in each sequence [B] (the pronoun). */
  query: Int32Array;
  /** The position the query should point at [B] (its referent). */
  target: Int32Array;
  batchSize: number;
  length: number;
}

/** Pad sequences with their query and target positions into one batch, to the longest sequence in it. Positions are checked here. */
export function pointerBatch(rows: Array<{ ids: number[]; query: number; target: number }>, { padId }: { padId: number }): PointerBatch {
  if (rows.length === 0) throw new TxError('pointerBatch: no rows given');
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.ids.length));
  const ids = new Int32Array(B * T).fill(padId);
  const pad = new Uint8Array(B * T).fill(1);
  const query = new Int32Array(B);
  const target = new Int32Array(B);
  rows.forEach((r, b) => {
    for (const [name, at] of [['query', r.query], ['target', r.target]] as const) {
      if (!Number.isInteger(at) || at < 0 || at >= r.ids.length) throw new TxError(`pointerBatch: row ${b}: ${name} ${at} is not a position of its ${r.ids.length} tokens`);
    }
    ids.set(r.ids, b * T);
    pad.fill(0, b * T, b * T + r.ids.length);
    query[b] = r.query;
    target[b] = r.target;
  });
  return { ids, pad, query, target, batchSize: B, length: T };
}
