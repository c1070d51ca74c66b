// The memory a command may use, checked against an estimate from the model's
// config before anything is allocated (@tx/blocks' estimate*Memory). The
// budget is 80% of the free memory, and on wasm also 90% of its 4 GB heap
// (wasm32 addresses no more). TX_MEMORY_BUDGET (bytes, or "512MB", "6GB")
// sets it outright.
//
// The corpus lives elsewhere: in JavaScript's heap, not in wasm's, as a string
// and then as tokens. Its size is checked before it is read (corpusLimit): a
// 400 MB file once ran 61 s to 3.3 GB and died with "Fatal JavaScript invalid
// size error" and a native stack.
import { freemem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { TxError } from '@tx/core';
import { estimateMemory, type ModelSpec } from '@tx/blocks';

export class MemoryError extends TxError {}

const GB = 1024 ** 3;
const UNITS: Record<string, number> = { '': 1, B: 1, KB: 1024, MB: 1024 ** 2, GB, TB: 1024 * GB };

export interface Budget {
  bytes: number;
  /** Where the number comes from, for the message. */
  reason: string;
}

/** TX_MEMORY_BUDGET as a budget, or null when it is not set. */
function budgetFromEnv(env: Record<string, string | undefined>): Budget | null {
  const set = env.TX_MEMORY_BUDGET;
  if (set === undefined || set === '') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?B?)\s*$/i.exec(set);
  if (!m) throw new MemoryError(`TX_MEMORY_BUDGET must be a size such as 6GB, 512MB or 1000000, got ${JSON.stringify(set)}`);
  return { bytes: Number(m[1]) * UNITS[m[2].toUpperCase()], reason: 'TX_MEMORY_BUDGET' };
}

export function memoryBudget(backend: string, env: Record<string, string | undefined> = process.env): Budget {
  const set = budgetFromEnv(env);
  if (set) return set;
  const free = 0.8 * freemem();
  if (backend === 'wasm' && 0.9 * 4 * GB < free) return { bytes: 0.9 * 4 * GB, reason: "90% of wasm's 4 GB heap" };
  return { bytes: free, reason: `80% of the ${formatBytes(freemem())} of free memory` };
}

/**
 * Bytes of memory per byte of corpus while it is tokenized and held, rounded
 * up from a measurement: a character tokenizer's encode took 21-25 bytes of
 * JavaScript heap per character (20 and 100 MB of text), the tokens as numbers
 * and then as an Int32Array.
 */
export const CORPUS_BYTES_PER_BYTE = 32;

/**
 * The largest corpus tx reads whatever the memory: a character corpus is a
 * token per character, and a JavaScript array holds at most 2^27 (134M)
 * elements, so 128 MiB of one-byte characters is already past it.
 */
export const MAX_CORPUS_BYTES = 100 * 1024 ** 2;

/**
 * The most bytes of text tx may read as a corpus, and why: MAX_CORPUS_BYTES,
 * or less where the memory for tokenizing it (CORPUS_BYTES_PER_BYTE) is not
 * there: TX_MEMORY_BUDGET, else the smaller of JavaScript's free heap and 80%
 * of the free memory.
 */
export function corpusLimit(env: Record<string, string | undefined> = process.env): Budget {
  const heap = getHeapStatistics();
  const heapFree = heap.heap_size_limit - heap.used_heap_size;
  const budget = budgetFromEnv(env) ??
    (heapFree < 0.8 * freemem()
      ? { bytes: heapFree, reason: `JavaScript's free heap` }
      : { bytes: 0.8 * freemem(), reason: `80% of the ${formatBytes(freemem())} of free memory` });
  const byMemory = Math.floor(budget.bytes / CORPUS_BYTES_PER_BYTE);
  if (byMemory < MAX_CORPUS_BYTES) {
    return { bytes: byMemory, reason: `tokenizing takes about ${CORPUS_BYTES_PER_BYTE} bytes of memory per byte of text, and the budget is ${formatBytes(budget.bytes)} (${budget.reason})` };
  }
  return { bytes: MAX_CORPUS_BYTES, reason: 'at a token per character, a JavaScript array holds at most 134M tokens' };
}

/**
 * The tokens of one forward pass that opening a Llama-family model for
 * inference is checked at. Its context is 8k to 128k tokens (SmolLM2-135M's
 * 8,192 would need 7.8 GiB of attention scores at once), but tx runs it a
 * prompt at a time with the KV cache; other models are checked at their
 * whole context (GPT-2's is 1,024).
 */
export const LLAMA_CHECK_LENGTH = 1024;

/** What opening `spec` for inference needs: batch 1, the whole context at once (a Llama-family model's first LLAMA_CHECK_LENGTH tokens). */
export function inferenceUse(spec: ModelSpec): { batchSize: number; training: boolean; length?: number } {
  return { batchSize: 1, training: false, ...(spec.kind === 'llama' ? { length: Math.min(spec.config.blockSize, LLAMA_CHECK_LENGTH) } : {}) };
}

/** Throw one line naming both numbers when `what` would not fit. */
export function checkMemory(what: string, spec: ModelSpec, use: { batchSize: number; training: boolean; length?: number }, budget: Budget): void {
  const e = estimateMemory(spec, use);
  if (e.totalBytes <= budget.bytes) return;
  const weights = `${formatBytes(e.parameterBytes)} for ${e.parameters.toLocaleString('en-US')} parameters${use.training ? ' with gradients and AdamW moments' : ''}`;
  throw new MemoryError(
    `${what} needs about ${formatBytes(e.totalBytes)} (${weights}, ${formatBytes(e.activationBytes)} of activations at batch ${use.batchSize}), ` +
      `more than the ${formatBytes(budget.bytes)} budget (${budget.reason}); use a smaller model or batch, or set TX_MEMORY_BUDGET`,
  );
}

export function formatBytes(n: number): string {
  const tb = n / (1024 * GB);
  if (tb >= 1) return `${tb < 100 ? tb.toFixed(1) : Math.round(tb).toLocaleString('en-US')} TB`;
  if (n >= GB) return `${(n / GB).toFixed(1)} GB`;
  return `${(n / 1024 ** 2).toFixed(1)} MB`;
}
