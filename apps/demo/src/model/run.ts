// Running a @tx/blocks GPT for the views: inspect a text (tokens, attention,
// Q/K/V of every layer, logits, loss), as `tx inspect` does, all from the
// model's own forward pass (returnAttention, returnQKV).
import type { GPT } from '@tx/blocks';
import { tf } from '@tx/core';
import { CharTokenizer, type Tokenizer } from '@tx/tokenizer';
import type { InspectData } from '../lib/data.js';

export interface Inspection extends InspectData {
  /** Per layer, per head: [T][D] arrays of queries, keys, values (of the first window). */
  q: number[][][][];
  k: number[][][][];
  v: number[][][][];
  /** Keys after the query are masked (a GPT); default true. An encoder's are not. */
  causal?: boolean;
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

/**
 * `tx inspect` in the page: one forward pass, keeping every layer's attention,
 * and Q, K, V from the same modules. Text longer than the context is read as
 * the model reads it while generating, with a sliding window: query i attends
 * to the last blockSize tokens up to i (Q, K, V are then those of the first window).
 */
export async function inspect(model: GPT, tokenizer: Tokenizer, text: string, { maxTokens = 1024 }: { maxTokens?: number } = {}): Promise<Inspection> {
  const ids = encodeKnown(tokenizer, text).slice(-maxTokens);
  if (ids.length === 0) throw new Error('the text has no characters the model knows');
  const N = ids.length;
  const bs = model.config.blockSize;
  const T = Math.min(N, bs);
  const first = await forwardTrace(model, [ids.slice(0, T)], true);
  const attention = first.attention.map((layer) => layer.map((head) => head[0].map((row) => {
    const full = new Array<number>(N).fill(0);
    for (let k = 0; k < row.length; k++) full[k] = row[k];
    return full;
  })));
  const logits = first.logits[0].slice();
  if (N > bs) {
    // Windows ending at each later query, in batches.
    for (let start = bs; start < N; start += 64) {
      const ends = Array.from({ length: Math.min(64, N - start) }, (_, i) => start + i);
      const r = await forwardTrace(model, ends.map((q) => ids.slice(q - bs + 1, q + 1)));
      ends.forEach((q, b) => {
        logits.push(r.logits[b][bs - 1]);
        r.attention.forEach((layer, l) => layer.forEach((head, h) => {
          const row = attention[l][h][q] ?? (attention[l][h][q] = new Array<number>(N).fill(0));
          const last = head[b][bs - 1];
          for (let j = 0; j < bs; j++) row[q - bs + 1 + j] = last[j];
        }));
      });
    }
  }
  let loss = 0;
  for (let i = 0; i + 1 < N; i++) loss -= logSoftmaxAt(logits[i], ids[i + 1]);
  const { q, k, v } = first.qkv!;
  return {
    tokens: ids.map((id) => tokenizer.decode([id])), ids,
    attention, logits, loss: N > 1 ? loss / (N - 1) : 0,
    q, k, v,
  };
}

interface Trace {
  logits: number[][][];
  /** [layer][head][batch][T][T] */
  attention: number[][][][][];
  /** When asked for: per layer, [head][T][d] of the first row. */
  qkv?: { q: number[][][][]; k: number[][][][]; v: number[][][][] };
}

async function forwardTrace(model: GPT, rows: number[][], withQKV = false): Promise<Trace> {
  const ids = tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');
  const { logits: logitsT, attention: att = [], qkv = [] } = model.forward(ids, { returnAttention: true, returnQKV: withQKV });
  ids.dispose();
  try {
    // [B, H, T, X] -> [H][B][T][X]
    const byHead = async (t: tf.Tensor4D) => {
      const a = (await t.array()) as number[][][][];
      return Array.from({ length: t.shape[1] }, (_, h) => a.map((batch) => batch[h]));
    };
    const firstRow = (which: 'q' | 'k' | 'v') => Promise.all(qkv.map(async (l) => ((await l[which].array()) as number[][][][])[0]));
    const logits = (await logitsT.array()) as number[][][];
    const attention = await Promise.all(att.map(byHead));
    if (!withQKV) return { logits, attention };
    const [q, k, v] = await Promise.all([firstRow('q'), firstRow('k'), firstRow('v')]);
    return { logits, attention, qkv: { q, k, v } };
  } finally {
    tf.dispose([logitsT, ...att, ...qkv.flatMap((l) => [l.q, l.k, l.v])]);
  }
}

function logSoftmaxAt(row: number[], index: number): number {
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
  return row[index] - lse;
}
