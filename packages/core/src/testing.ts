// Test helpers for @tx packages and their users.
import { tf } from './tf.js';

export interface NoLeakOptions {
  /** Calls of fn made before counting, for work that allocates caches on first use. */
  warmup?: number;
  /** Named in the failure message. */
  label?: string;
}

/**
 * Run fn and throw if it leaves tf.memory().numTensors changed. Works with
 * sync and async functions and returns what fn returned (which must not be a
 * tensor it created: return plain values).
 */
export async function expectNoLeak<T>(fn: () => T | Promise<T>, options: NoLeakOptions = {}): Promise<T> {
  for (let i = 0; i < (options.warmup ?? 0); i++) await fn();
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  if (after !== before) {
    const what = options.label ? ` in ${options.label}` : '';
    throw new Error(`tensor leak${what}: tf.memory().numTensors went from ${before} to ${after} (${after - before > 0 ? '+' : ''}${after - before})`);
  }
  return result;
}
