// The memory a command may use, checked against an estimate from the model's
// config before anything is allocated (@tx/blocks' estimate*Memory). The
// budget is 80% of the free memory, and on wasm also 90% of its 4 GB heap
// (wasm32 addresses no more). TX_MEMORY_BUDGET (bytes, or "512MB", "6GB")
// sets it outright.
import { freemem } from 'node:os';
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

export function memoryBudget(backend: string, env: Record<string, string | undefined> = process.env): Budget {
  const set = env.TX_MEMORY_BUDGET;
  if (set !== undefined && set !== '') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?B?)\s*$/i.exec(set);
    if (!m) throw new MemoryError(`TX_MEMORY_BUDGET must be a size such as 6GB, 512MB or 1000000, got ${JSON.stringify(set)}`);
    return { bytes: Number(m[1]) * UNITS[m[2].toUpperCase()], reason: 'TX_MEMORY_BUDGET' };
  }
  const free = 0.8 * freemem();
  if (backend === 'wasm' && 0.9 * 4 * GB < free) return { bytes: 0.9 * 4 * GB, reason: "90% of wasm's 4 GB heap" };
  return { bytes: free, reason: `80% of the ${formatBytes(freemem())} of free memory` };
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
