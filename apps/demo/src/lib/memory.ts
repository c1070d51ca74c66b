// Can this backend hold a model the reader brings? Asked from config.json
// alone, before a byte of the weights is read, so that a model too big for
// the adapter is refused in one line and the page keeps the model it had.
//
// What the attention view needs to inspect N tokens (float32, "about"):
//   @tx/blocks' inference estimate for one forward pass (weights once, one
//   layer's intermediates, the logits twice), at the context length, or for
//   a batch of sliding windows when N is past the context;
// + the tied output layer's transpose, which a GPT keeps in eval mode (V x C);
// + every layer's attention, L x H x N x N (the forward returns all layers;
//   the page pools each into the grid and reads one), and past the context the
//   windows' own attention too.
// And no single tensor may pass the backend's largest buffer.
import { estimateMemory, type GPTConfig, type LlamaConfig } from '@tx/blocks';
import type { DecoderSpec } from './files.js';
import { formatBytes } from './progress.js';

const FLOAT = 4;

/** What the backend can hold: in all, and in one tensor (null: not limited, or not reported). */
export interface Budget {
  total: number | null;
  tensor: number | null;
  /** Who sets each limit, for the message: "the wasm backend's 4.3 GB heap", "this WebGPU adapter". */
  totalFrom: string;
  tensorFrom: string;
}

export interface Need {
  total: number;
  weights: number;
  attention: number;
  /** The largest single tensor, named. */
  largest: { what: string; bytes: number };
}

/** Sliding windows per forward pass past the context: at most 64, and about 64 MB of logits and attention. */
export function windowBatch(c: Pick<GPTConfig, 'blockSize' | 'vocabSize' | 'nLayer' | 'nHead'>): number {
  const perWindow = c.blockSize * c.vocabSize + c.nLayer * c.nHead * c.blockSize ** 2;
  return Math.max(1, Math.min(64, Math.floor(2 ** 24 / perWindow)));
}

/** The memory the attention view needs to inspect `tokens` tokens with a GPT of this config. */
export function inspectNeed(c: GPTConfig, tokens: number): Need {
  const N = tokens, T = Math.min(N, c.blockSize);
  const B = N > c.blockSize ? windowBatch(c) : 1;
  const forward = estimateMemory({ kind: 'gpt', config: c }, { batchSize: B, length: T, training: false });
  const head = c.vocabSize * c.nEmbd * FLOAT;
  const windows = N > c.blockSize ? c.nLayer * B * c.nHead * T * T * FLOAT : 0;
  const attention = c.nLayer * c.nHead * N * N * FLOAT + windows;
  const n = (x: number) => x.toLocaleString('en-US');
  const tensors = [
    { what: `the token embedding (${n(c.vocabSize)} × ${n(c.nEmbd)})`, bytes: head },
    { what: `the logits (${B > 1 ? `${B} × ` : ''}${n(T)} × ${n(c.vocabSize)})`, bytes: B * T * c.vocabSize * FLOAT },
    { what: `one layer's attention (${c.nHead} × ${n(N)} × ${n(N)})`, bytes: c.nHead * N * N * FLOAT },
    { what: `the feed-forward activations (${B > 1 ? `${B} × ` : ''}${n(T)} × ${n(4 * c.nEmbd)})`, bytes: B * T * 4 * c.nEmbd * FLOAT },
  ];
  const largest = tensors.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { total: forward.totalBytes + head + attention, weights: forward.parameterBytes, attention, largest };
}

/**
 * The memory the attention view needs for a GPT or a Llama-family decoder.
 * A Llama's tied head is read in place (matMul's transposed operand), so
 * nothing is added for it; its feed-forward activations are the gated MLP's
 * inner width; its attention has nHead query heads (the KV heads are fewer).
 */
export function decoderNeed(spec: DecoderSpec, tokens: number): Need {
  return spec.kind === 'gpt' ? inspectNeed(spec.config, tokens) : llamaNeed(spec.config, tokens);
}

function llamaNeed(c: LlamaConfig, tokens: number): Need {
  const N = tokens, T = Math.min(N, c.blockSize);
  const B = N > c.blockSize ? windowBatch(c) : 1;
  const forward = estimateMemory({ kind: 'llama', config: c }, { batchSize: B, length: T, training: false });
  const windows = N > c.blockSize ? c.nLayer * B * c.nHead * T * T * FLOAT : 0;
  const attention = c.nLayer * c.nHead * N * N * FLOAT + windows;
  const n = (x: number) => x.toLocaleString('en-US');
  const tensors = [
    { what: `the token embedding (${n(c.vocabSize)} × ${n(c.nEmbd)})`, bytes: c.vocabSize * c.nEmbd * FLOAT },
    { what: `the logits (${B > 1 ? `${B} × ` : ''}${n(T)} × ${n(c.vocabSize)})`, bytes: B * T * c.vocabSize * FLOAT },
    { what: `one layer's attention (${c.nHead} × ${n(N)} × ${n(N)})`, bytes: c.nHead * N * N * FLOAT },
    { what: `the gated MLP's activations (${B > 1 ? `${B} × ` : ''}${n(T)} × ${n(c.intermediateSize)})`, bytes: B * T * c.intermediateSize * FLOAT },
  ];
  const largest = tensors.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { total: forward.totalBytes + attention, weights: forward.parameterBytes, attention, largest };
}

/** Why the backend cannot hold it (beside `held` bytes of models already loaded), or null when it can. */
export function refusal(need: Need, budget: Budget, held = 0): string | null {
  if (budget.tensor !== null && need.largest.bytes > budget.tensor) {
    return `its largest tensor, ${need.largest.what}, takes ${formatBytes(need.largest.bytes)}, more than the ${formatBytes(budget.tensor)} buffer limit of ${budget.tensorFrom}`;
  }
  if (budget.total !== null && need.total + held > budget.total) {
    const beside = held > 0 ? ` beside the ${formatBytes(held)} of the models already loaded` : '';
    return `it needs about ${formatBytes(need.total)} (weights ${formatBytes(need.weights)}, attention ${formatBytes(need.attention)})${beside}, more than the ${formatBytes(budget.total)} of ${budget.totalFrom}`;
  }
  return null;
}

/** "8MB", "1.5 GB", "512 kB", "1000000" (bytes), with decimal units as formatBytes writes them; null if unreadable. */
export function parseBytes(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(text);
  if (!m) return null;
  const scale = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.round(Number(m[1]) * scale);
}
