// A GPT's KV cache: one @tx/attention KVCache per layer, each keeping at most
// blockSize positions. GPTDecoder restarts it before it would overflow (see decoder.ts).
import { KVCache } from '@tx/attention';

export class GPTCache {
  readonly layers: KVCache[];

  constructor(nLayer: number, readonly maxLength: number) {
    this.layers = Array.from({ length: nLayer }, () => new KVCache({ maxLength }));
  }

  /** Tokens fed so far (may exceed maxLength). */
  get position(): number {
    return this.layers[0]?.position ?? 0;
  }

  /** Positions held: at most maxLength. */
  get length(): number {
    return this.layers[0]?.length ?? 0;
  }

  /** An independent copy (for beam search). */
  clone(): GPTCache {
    const copy = new GPTCache(0, this.maxLength);
    copy.layers.push(...this.layers.map((c) => c.clone()));
    return copy;
  }

  dispose(): void {
    for (const c of this.layers) c.dispose();
  }
}
