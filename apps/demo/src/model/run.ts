// Running a @tx/blocks GPT or Llama for the views: inspect a text (tokens,
// attention, Q/K/V, loss), as `tx inspect` does, all from the model's own
// forward pass (returnAttention, returnQKV), reading back one layer at a time.
import { GPT, type Llama } from '@tx/blocks';
import { addAll, tf, tidy } from '@tx/core';
import { CharTokenizer, type Tokenizer } from '@tx/tokenizer';
import type { InspectData } from '../lib/data.js';
import { tokenLabels } from '../lib/tokens.js';
import { poolFactor, splitRows } from '../lib/downsample.js';
import { windowBatch } from '../lib/memory.js';
import { lastRowIndex, nllSum, placeLastRows, poolMax } from './attention-device.js';
import { MAX_PROJECTION_WEIGHTS, readProjections, type LayerProjection } from './projections.js';

export interface Inspection extends InspectData {
  /** Per layer, per head: [T][D] arrays of queries, keys, values (of the first window); [] for a layer not read. */
  q: number[][][][];
  k: number[][][][];
  v: number[][][][];
  /** Keys after the query are masked (a GPT); default true. An encoder's are not. */
  causal?: boolean;
  /** Mistral's sliding window: a query sees only its last `window` keys (absent: all of them). */
  window?: number;
  /** Per layer, what goes into and out of its attention (first window), or null where not read: x·W_Q and Concat·W_O in the arithmetic view. */
  projections?: Array<LayerProjection | null>;
}

/** The characters of `text` a character tokenizer has never seen (they are left out); none for BPE or with <unk>. */
export function unknownChars(tokenizer: Tokenizer, text: string): string[] {
  if (!(tokenizer instanceof CharTokenizer) || tokenizer.unk !== null) return [];
  const known = new Set(tokenizer.chars);
  return [...new Set([...text].filter((c) => !known.has(c)))];
}

/** Encode what the tokenizer can: characters it has never seen are dropped (listed by unknownChars). */
export function encodeKnown(tokenizer: Tokenizer, text: string): number[] {
  const unknown = new Set(unknownChars(tokenizer, text));
  return tokenizer.encode(unknown.size ? [...text].filter((c) => !unknown.has(c)).join('') : text);
}

/** The longest text the attention view reads: GPT-2's context. */
export const MAX_TOKENS = 1024;

/** Options of inspect: the layer to read, the longest text, the grid's thumbnail size. */
export interface InspectOptions {
  /** The layer whose attention, Q, K and V are read back (default 0). */
  layer?: number;
  /** Keep the last maxTokens tokens (default MAX_TOKENS). */
  maxTokens?: number;
  /** Thumbnails of every layer x head pooled to at most this many cells a side (default 64). */
  thumbnail?: number;
}

/**
 * `tx inspect` in the page, reading back only what the views draw: the
 * attention of one layer (`layer`), and of every layer a max-pooled
 * thumbnail for the grid (pooled on the device). At 1,024 tokens GPT-2's 12
 * layers x 12 heads are 151M weights; one layer is 12.6M, the thumbnails 0.6M.
 * Text longer than the context is read as the model reads it while
 * generating, with a sliding window: query i attends to the last blockSize
 * tokens up to i (each window's last row is placed on the device). The
 * loss is summed on the device too; Q, K and V are those of the first window.
 */
export async function inspect(model: GPT | Llama, tokenizer: Tokenizer, text: string, { layer = 0, maxTokens = MAX_TOKENS, thumbnail = 64 }: InspectOptions = {}): Promise<Inspection> {
  const all = encodeKnown(tokenizer, text);
  const ids = all.slice(-maxTokens);
  if (ids.length === 0) throw new Error('the text has no characters the model knows');
  const { nLayer: L, blockSize: bs } = model.config;
  if (!Number.isInteger(layer) || layer < 0 || layer >= L) throw new Error(`layer ${layer}: the model has layers 0..${L - 1}`);
  const N = ids.length, T = Math.min(N, bs);
  // Per layer, blocks of query rows over all N keys: [H, rows, N].
  const rows: tf.Tensor3D[][] = Array.from({ length: L }, () => []);
  const losses: tf.Scalar[] = [];
  try {
    const first = forward(model, [ids.slice(0, T)], true);
    let qkv: number[][][][];
    try {
      first.attention.forEach((a, l) => rows[l].push(tidy(() => {
        const heads = tf.reshape(a, [a.shape[1], T, T]) as tf.Tensor3D; // [H, T, T]
        return N > T ? tf.pad(heads, [[0, 0], [0, 0], [0, N - T]]) : tf.clone(heads);
      })));
      const predicted = Math.min(T, N - 1); // rows of the first window with a next token to predict
      if (predicted > 0) losses.push(tidy(() => nllSum(tf.reshape(tf.slice(first.logits, [0, 0, 0], [1, predicted, -1]), [predicted, -1]) as tf.Tensor2D, ids.slice(1, predicted + 1))));
      const { q, k, v } = first.qkv[layer];
      qkv = await Promise.all([q, k, v].map(async (t) => ((await t.array()) as number[][][][])[0]));
    } finally {
      first.dispose();
    }
    // Past the context: windows ending at each later query, in batches.
    const B = windowBatch(model.config);
    for (let start = bs; start < N; start += B) {
      const ends = Array.from({ length: Math.min(B, N - start) }, (_, i) => start + i);
      const r = forward(model, ends.map((e) => ids.slice(e - bs + 1, e + 1)), false);
      const index = lastRowIndex(ends, bs, N); // built once for all the batch's layers
      try {
        r.attention.forEach((a, l) => rows[l].push(placeLastRows(a, index, N)));
        const targets = ends.filter((e) => e + 1 < N);
        if (targets.length) losses.push(tidy(() => nllSum(tf.reshape(tf.slice(r.logits, [0, bs - 1, 0], [targets.length, 1, -1]), [targets.length, -1]) as tf.Tensor2D, targets.map((e) => ids[e + 1]))));
      } finally {
        index.dispose();
        r.dispose();
      }
    }
    // Every layer pooled for the grid, one layer at a time (the padding is freed as it goes); one layer read whole.
    const factor = poolFactor(N, thumbnail);
    const read = [
      tidy(() => tf.stack(rows.map((blocks) => tidy(() => poolMax(concatRows(blocks), factor))))),
      tidy(() => concatRows(rows[layer])),
      addAll(losses), // not tf.addN, which WebGPU cannot run on many inputs
    ];
    let thumbData: Float32Array, shownData: Float32Array, lossData: Float32Array;
    try {
      [thumbData, shownData, lossData] = (await Promise.all(read.map((t) => t.data()))) as Float32Array[];
    } finally {
      tf.dispose(read);
    }
    // A Llama returns its K and V per KV head (after RoPE): each query head is given the one it shares, so the
    // arithmetic view's q·k for head h is the score the model softmaxed.
    const kvHeads = model instanceof GPT ? null : kvHeadsOf(model.config.nHead, model.config.nKvHead);
    const [q, k, v] = kvHeads ? [qkv[0], kvHeads.map((j) => qkv[1][j]), kvHeads.map((j) => qkv[2][j])] : qkv;
    // The layer's projections for the arithmetic view, on the first window, where c_attn is small enough to read back.
    const C = model.config.nEmbd;
    let projections: Array<LayerProjection | null> | undefined;
    if (model instanceof GPT && 3 * C * C <= MAX_PROJECTION_WEIGHTS) { // a Llama's q, k and v are rotated: not this page's x·W arithmetic
      const window = tf.tensor2d([ids.slice(0, T)], [1, T], 'int32');
      const x0 = tidy(() => tf.add(model.wte.forward(window), model.wpe.forward(T, 0)));
      try {
        projections = await readProjections([...model.h], x0, [layer]);
      } finally {
        tf.dispose([window, x0]);
      }
    }
    const H = model.config.nHead, side = Math.ceil(N / factor);
    const empty = () => [] as never[];
    return {
      tokens: tokenLabels(tokenizer, ids), ids,
      ...(kvHeads ? { kvHeads } : {}),
      ...(!(model instanceof GPT) && model.config.slidingWindow !== null ? { window: model.config.slidingWindow } : {}),
      dropped: all.length - N,
      layer,
      attention: Array.from({ length: L }, (_, l) => (l === layer ? Array.from({ length: H }, (_, h) => splitRows(shownData, N, N, h * N * N)) : empty())),
      thumbnails: { factor, cells: Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => splitRows(thumbData, side, side, (l * H + h) * side * side))) },
      loss: N > 1 ? lossData[0] / (N - 1) : 0,
      q: Array.from({ length: L }, (_, l) => (l === layer ? q : empty())),
      k: Array.from({ length: L }, (_, l) => (l === layer ? k : empty())),
      v: Array.from({ length: L }, (_, l) => (l === layer ? v : empty())),
      ...(projections ? { projections } : {}),
    };
  } finally {
    tf.dispose([...rows.flat(), ...losses]);
  }
}

/** Row blocks [H, rows, N] as one [H, N, N] (one block is returned as it is). */
function concatRows(blocks: tf.Tensor3D[]): tf.Tensor3D {
  return blocks.length === 1 ? blocks[0] : tf.concat(blocks, 1);
}

interface Forward {
  logits: tf.Tensor3D;
  /** One [B, H, T, T] per layer. */
  attention: tf.Tensor4D[];
  /** When asked for: per layer, Q, K and V [B, H, T, d]. */
  qkv: Array<{ q: tf.Tensor4D; k: tf.Tensor4D; v: tf.Tensor4D }>;
  dispose(): void;
}

/** Which KV head each query head shares under grouped-query attention: heads 0..g-1 read KV head 0, and so on (g = nHead / nKvHead). */
export function kvHeadsOf(nHead: number, nKvHead: number): number[] {
  return Array.from({ length: nHead }, (_, h) => Math.floor(h / (nHead / nKvHead)));
}

function forward(model: GPT | Llama, windows: number[][], withQKV: boolean): Forward {
  const ids = tf.tensor2d(windows, [windows.length, windows[0].length], 'int32');
  try {
    const { logits, attention = [], qkv = [] } = model.forward(ids, { returnAttention: true, returnQKV: withQKV });
    return { logits, attention, qkv, dispose: () => tf.dispose([logits, ...attention, ...qkv.flatMap((l) => [l.q, l.k, l.v])]) };
  } finally {
    ids.dispose();
  }
}
