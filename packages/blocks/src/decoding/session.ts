// A GPT's decoding session, what @tx/generate drives: feed(ids) appends ids
// and returns the logits of the token after them.
//
// Within the context (blockSize tokens) each feed computes only its new
// positions, with the KV cache. Past the context, this is the one place that
// decides what the next token sees (contextOverflow):
//   'crop' (default): the last blockSize ids, recomputed at every step, as
//       nanoGPT's generate does: greedy output equals nanoGPT's sample.py.
//   'restart': a fresh cache from the last 3/4 of the context, recomputed in
//       one pass, then filled step by step until full again: each token sees
//       3/4 to all of the context, at a few positions' work per token.
// A GPT's keys are only valid at the positions they were computed at (learned
// position embeddings), so sliding a full cache would be wrong; a model with
// relative positions (RoPE, ALiBi) could slide it exactly.
//
// On wasm with @tx's kernels, in eval mode and without attention weights asked
// for, each feed is one fused call (@tx/core's FusedDecoder) with its keys and
// values kept in wasm, instead of ~300 tfjs kernels per token: a step, a
// prompt, or past the context the window either policy recomputes.
//
// The session knows its model only through SessionModel, the few members it
// uses, so models/gpt.ts imports this file and not the other way round.
import { FusedDecoder, tf, type DecoderWeights, type DecodingSession, type SessionOptions, type StepOutput } from '@tx/core';
import type { KVCache } from '@tx/attention';
import type { GPTConfig } from '../models/config.js';
import { checkIds } from './ids.js';

/** What a GPTSession needs of its model (GPT has it): its shape, fresh KV caches, a forward over ids, and the fused decoder's weights. */
export interface SessionModel {
  readonly config: Readonly<Pick<GPTConfig, 'vocabSize' | 'blockSize' | 'nLayer' | 'nHead' | 'nEmbd' | 'activation' | 'layerNormEps'>>;
  /** Empty KV caches, one per layer. */
  createCache(): KVCache[];
  /** ids: int32 [1, T], continuing the sequence held in the caches -> logits [1, T, vocabSize], and each layer's attention when asked for. */
  forward(ids: tf.Tensor, options: { cache?: KVCache[]; returnAttention?: boolean }): { logits: tf.Tensor3D; attention?: tf.Tensor4D[] };
  /** The weights as FusedDecoder reads them, or null where the fused path may not run (training mode). */
  decoderWeights(): DecoderWeights | null;
}

/** A GPT's decoding session (the DecodingSession of `@tx/core`): feed ids, get the next token's logits, with a KV cache and a context-overflow policy. */
export class GPTSession implements DecodingSession {
  private history: number[] = [];
  private cache: KVCache[] | null;
  private fused: FusedDecoder | null;
  /** The cache does not hold the history (the fused path was left): recompute before using it. */
  private cacheStale = false;

  constructor(
    private readonly model: SessionModel,
    private readonly options: SessionOptions = {},
  ) {
    const c = model.config;
    const fusable = options.cache !== false && options.attention !== true && model.decoderWeights() !== null;
    this.fused = fusable
      ? FusedDecoder.create({ ...c, activation: c.activation ?? 'gelu', layerNormEps: c.layerNormEps ?? 1e-5 })
      : null;
    this.cache = options.cache === false || this.fused ? null : model.createCache();
  }

  /** All ids fed so far. */
  get ids(): readonly number[] {
    return this.history;
  }

  async feed(ids: readonly number[]): Promise<StepOutput> {
    const { vocabSize: V, blockSize: T } = this.model.config;
    if (ids.length === 0) throw new RangeError('GPTSession.feed: needs at least one id');
    checkIds(ids, V, 'GPTSession.feed');
    this.history.push(...ids);
    const weights = this.fused?.usable() ? this.model.decoderWeights() : null;
    if (this.fused && !weights) this.leaveFused();
    if (this.fused && weights) {
      if (this.fused.position + ids.length <= T) return { logits: this.fused.feed(ids, weights) };
      const keep = this.options.contextOverflow === 'restart' ? this.restartWindow(ids.length) : T;
      const held = this.fused.position;
      this.fused.position = 0;
      try {
        return { logits: this.fused.feed(this.history.slice(-keep), weights) };
      } catch (err) {
        this.fused.position = held; // feed checks before it writes: the caches still hold what they held
        throw err;
      }
    }
    const held = this.cache?.[0]?.position ?? 0;
    let input: number[];
    if (this.cache && !this.cacheStale && held + ids.length <= T) {
      input = [...ids];
    } else {
      const keep = this.cache && this.options.contextOverflow === 'restart' ? this.restartWindow(ids.length) : T;
      input = this.history.slice(-keep);
      if (this.cache) this.resetCache();
      this.cacheStale = false;
    }
    const attention = this.options.attention === true;
    const idTensor = tf.tensor2d([input], [1, input.length], 'int32');
    const out = this.model.forward(idTensor, { cache: this.cache ?? undefined, returnAttention: attention });
    idTensor.dispose();
    const last = input.length - 1;
    const [next, ...rows] = tf.tidy(() => [
      tf.reshape(tf.slice(out.logits, [0, last, 0], [1, 1, V]), [V]),
      ...(out.attention ?? []).map((a) => tf.reshape(tf.slice(a, [0, 0, last, 0], [1, -1, 1, -1]), [a.shape[1], a.shape[3]])), // [head][key]
    ]);
    tf.dispose([out.logits, ...(out.attention ?? [])]);
    try {
      const step: StepOutput = { logits: (await next.data()) as Float32Array };
      if (attention) step.attention = (await Promise.all(rows.map((r) => r.array()))) as number[][][];
      return step;
    } finally {
      tf.dispose([next, ...rows]);
    }
  }

  fork(): GPTSession {
    // The same options and state, with copies of the caches (not the constructor, which would allocate new ones).
    const copy = Object.create(GPTSession.prototype) as GPTSession;
    return Object.assign(copy, {
      model: this.model,
      options: this.options,
      history: [...this.history],
      cache: this.cache ? this.cache.map((c) => c.clone()) : null,
      fused: this.fused ? this.fused.clone() : null,
      cacheStale: this.cacheStale,
    });
  }

  dispose(): void {
    for (const c of this.cache ?? []) c.dispose();
    this.fused?.dispose();
    this.fused = null;
  }

  /** The model left eval mode, or the kernels were turned off: continue with tfjs's path and a fresh cache. */
  private leaveFused(): void {
    this.fused!.dispose();
    this.fused = null;
    if (this.options.cache !== false) this.cache = this.model.createCache();
    this.cacheStale = true;
  }

  private resetCache(): void {
    for (const c of this.cache ?? []) c.dispose();
    this.cache = this.model.createCache();
  }

  /** Past the context, 'restart' recomputes the last 3/4 of it (all the new ids if more, at most the context). */
  private restartWindow(newIds: number): number {
    const T = this.model.config.blockSize;
    return Math.min(T, Math.max(newIds, Math.ceil(0.75 * T)));
  }
}
