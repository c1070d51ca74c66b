// A Decoder (@tx/core's generation.ts) on tfjs's kernels: the model's own
// forward over the new ids, with one KV cache per layer. It runs anywhere
// (webgpu, wasm, cpu), and reports attention probabilities when asked, which
// the fused decoder does not. Setting position to 0 starts afresh: the next
// feed begins from new caches (made only then, so that a refused feed can
// set the position back and keep what was held).
import { ValueError, tf, type Decoder, type StepOutput } from '@tx/core';
import type { KVCache } from '@tx/attention';

/** What a TfjsDecoder needs of its model: fresh KV caches, and a forward over ids that continues them. */
export interface ForwardModel {
  readonly config: { readonly vocabSize: number };
  /** Empty KV caches, one per layer. */
  createCache(): KVCache[];
  /** ids: int32 [1, T], continuing the sequence held in the caches -> logits [1, T, vocabSize], and each layer's attention when asked for. */
  forward(ids: tf.Tensor, options: { cache?: KVCache[]; returnAttention?: boolean }): { logits: tf.Tensor3D; attention?: tf.Tensor4D[] };
}

/** Options of a TfjsDecoder: keep keys and values (else every feed is a whole window from position 0), report attention. */
export interface TfjsDecoderOptions {
  cache: boolean;
  attention: boolean;
}

/** A model's decoding through tfjs's kernels, with KV caches. */
export class TfjsDecoder implements Decoder {
  private caches: KVCache[] | null;
  /** Set by `position = 0`: the next feed starts from new caches. */
  private restart = false;

  constructor(
    private readonly model: ForwardModel,
    private readonly options: TfjsDecoderOptions,
  ) {
    this.caches = options.cache ? model.createCache() : null;
  }

  /** The positions held (0 without caches); set to 0 to start afresh, or back to what was held to cancel that. */
  get position(): number {
    return this.restart || !this.caches ? 0 : (this.caches[0]?.position ?? 0);
  }

  set position(p: number) {
    const held = this.caches?.[0]?.position ?? 0;
    if (p !== 0 && p !== held) throw new ValueError(`TfjsDecoder: position can be set to 0 or back to ${held}, not ${p}`);
    this.restart = p === 0 && held !== 0;
  }

  async feed(ids: readonly number[]): Promise<StepOutput> {
    if (this.restart) {
      for (const c of this.caches ?? []) c.dispose();
      this.caches = this.model.createCache();
      this.restart = false;
    }
    const V = this.model.config.vocabSize;
    const idTensor = tf.tensor2d([[...ids]], [1, ids.length], 'int32');
    const out = this.model.forward(idTensor, { cache: this.caches ?? undefined, returnAttention: this.options.attention });
    idTensor.dispose();
    const last = ids.length - 1;
    const [next, ...rows] = tf.tidy(() => [
      tf.reshape(tf.slice(out.logits, [0, last, 0], [1, 1, V]), [V]),
      ...(out.attention ?? []).map((a) => tf.reshape(tf.slice(a, [0, 0, last, 0], [1, -1, 1, -1]), [a.shape[1], a.shape[3]])), // [head][key]
    ]);
    tf.dispose([out.logits, ...(out.attention ?? [])]);
    try {
      const step: StepOutput = { logits: (await next.data()) as Float32Array };
      if (this.options.attention) step.attention = (await Promise.all(rows.map((r) => r.array()))) as number[][][];
      return step;
    } finally {
      tf.dispose([next, ...rows]);
    }
  }

  clone(): TfjsDecoder {
    const copy = new TfjsDecoder(this.model, { ...this.options, cache: false });
    copy.caches = this.caches ? this.caches.map((c) => c.clone()) : null;
    copy.restart = this.restart;
    return copy;
  }

  dispose(): void {
    for (const c of this.caches ?? []) c.dispose();
    this.caches = null;
  }
}
