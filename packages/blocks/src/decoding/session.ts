// Token-by-token decoding of a GPT, the interface @tx/generate drives:
// feed(ids) appends ids and returns the logits for the token after them.
//
// Without a cache each feed recomputes the last blockSize tokens (nanoGPT's
// generate). With one, each feed computes only its new positions. Past the
// context the window moves in jumps: a GPT's keys are only valid at the
// positions they were computed at (learned position embeddings), so rather
// than sliding stale keys we start a fresh cache from the last 3/4 of the
// context, recomputed in one forward pass. Each token then still sees between
// 3/4 and all of the context, with correct positions, at an amortised cost of
// a few positions' work per token.
import { TxError, tf } from '@tx/core';
import type { GPT } from './gpt.js';
import type { GPTCache } from './kv-cache.js';

export interface StepOutput {
  /** Logits for the token after the last one fed: [vocabSize]. */
  logits: Float32Array;
  /** When requested: attention weights of the last position, [layer][head][key]. */
  attention?: number[][][];
}

export class GPTDecoder {
  private history: number[] = [];
  private cache: GPTCache | null;
  private readonly attention: boolean;

  constructor(
    private readonly model: GPT,
    { cache = true, attention = false }: { cache?: boolean; attention?: boolean } = {},
  ) {
    this.cache = cache ? model.createCache() : null;
    this.attention = attention;
  }

  /** How many of the latest ids the next logits depend on (the cache's window, or blockSize without a cache). */
  get windowLength(): number {
    return this.cache ? this.cache.length : Math.min(this.history.length, this.model.config.blockSize);
  }

  /** All ids fed so far. */
  get ids(): readonly number[] {
    return this.history;
  }

  async feed(ids: readonly number[]): Promise<StepOutput> {
    if (ids.length === 0) throw new TxError('GPTDecoder.feed: needs at least one id');
    this.history.push(...ids);
    const T = this.model.config.blockSize;
    let input: number[];
    if (!this.cache) {
      input = this.history.slice(-T);
    } else if (this.cache.length + ids.length > T) {
      this.cache.dispose();
      this.cache = this.model.createCache();
      input = this.history.slice(-Math.min(T, Math.max(ids.length, Math.ceil(0.75 * T))));
    } else {
      input = [...ids];
    }
    const { logits, attention } = this.model.forward([input], { cache: this.cache ?? undefined, returnAttention: this.attention });
    const last = input.length - 1;
    const V = this.model.config.vocabSize;
    const [next, ...rows] = tf.tidy(() => [
      tf.reshape(tf.slice(logits, [0, last, 0], [1, 1, V]), [V]),
      // The keys of the window (a sliding cache also hands back the key that just left it, weight 0).
      ...(attention ?? []).map((a) => {
        const keys = Math.min(a.shape[3], T);
        return tf.reshape(tf.slice(a, [0, 0, last, a.shape[3] - keys], [1, -1, 1, keys]), [a.shape[1], keys]);
      }),
    ]);
    tf.dispose([logits, ...(attention ?? [])]);
    try {
      const out: StepOutput = { logits: (await next.data()) as Float32Array };
      if (this.attention) out.attention = (await Promise.all(rows.map((r) => r.array()))) as number[][][];
      return out;
    } finally {
      tf.dispose([next, ...rows]);
    }
  }

  fork(): GPTDecoder {
    const copy = new GPTDecoder(this.model, { cache: false, attention: this.attention });
    copy.history = [...this.history];
    copy.cache = this.cache ? this.cache.clone() : null;
    return copy;
  }

  dispose(): void {
    this.cache?.dispose();
  }
}
