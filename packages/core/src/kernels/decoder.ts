// A GPT's batch-1 decoding step as one wasm call (kernels/decoder.ts), for
// @tx/blocks' decoding session. The caches and scratch live in tfjs-wasm's
// heap, owned by this object; the weights are read where tfjs keeps them.
import { ShapeError, ValueError } from '../errors.js';
import { tf } from '../tf.js';
import { FUSED } from './fused.js';
import { kernelsActive, loadedKernels } from './install.js';
import { offsetOf } from './wasm.js';

/** A GPT's shape, as the fused step needs it (nanoGPT's architecture: pre-norm, learned positions, tied head). */
export interface DecoderShape {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  vocabSize: number;
  blockSize: number;
  activation: 'gelu' | 'gelu_tanh' | 'relu';
  layerNormEps: number;
}

/** A weight and its optional bias. */
export type Affine = [tf.Tensor, tf.Tensor | null];

/**
 * The weights, as tensors of the model (read in place at every step). Linear
 * weights are [in, out]; head is the output layer [C, V] (wteᵀ when tied).
 */
export interface DecoderWeights {
  wte: tf.Tensor;
  wpe: tf.Tensor;
  lnF: Affine;
  head: tf.Tensor;
  layers: { ln1: Affine; attn: Affine; proj: Affine; ln2: Affine; fc: Affine; mlp: Affine }[];
}

const ACTIVATIONS = { gelu: 0, gelu_tanh: 1, relu: 2 } as const;

/** A fused decoder: feed one token at a time, get the next token's logits; keys and values stay in wasm. */
export class FusedDecoder {
  /** Positions held in the caches (the next token's position). */
  position = 0;
  private disposed = false;
  private inputsFor: { weights: DecoderWeights; inputs: Record<string, tf.Tensor>; slots: number } | null = null;
  private readonly cacheBytes: number;
  private readonly blocks: { table: number; k: number; v: number; scratch: number };

  private constructor(
    readonly shape: DecoderShape,
    private readonly heap: { malloc(bytes: number): number; free(offset: number): void; bytes(): Uint8Array },
  ) {
    const { nLayer, nEmbd, blockSize } = shape;
    this.cacheBytes = 4 * nLayer * blockSize * nEmbd;
    const kernels = loadedKernels()!;
    this.blocks = {
      table: heap.malloc(4 * (5 + 12 * nLayer)),
      k: heap.malloc(this.cacheBytes),
      v: heap.malloc(this.cacheBytes),
      scratch: heap.malloc(kernels.exports.decodeScratch(nEmbd, blockSize)),
    };
  }

  /** A decoder for this shape, or null when @tx's wasm kernels are off or the widths are not multiples of 4. */
  static create(shape: DecoderShape): FusedDecoder | null {
    const loaded = loadedKernels();
    const d = shape.nEmbd / shape.nHead;
    if (!kernelsActive() || !loaded || shape.nEmbd % 4 !== 0 || !Number.isInteger(d) || d % 4 !== 0) return null;
    const { wasm } = loaded.backend;
    return new FusedDecoder(shape, {
      malloc: (bytes) => wasm._malloc(bytes) >>> 0,
      free: (offset) => wasm._free(offset),
      bytes: () => wasm.HEAPU8,
    });
  }

  /** False once the kernels were turned off or the backend changed: the caller falls back. */
  usable(): boolean {
    return kernelsActive();
  }

  /** Feed `token` at `position` and return the next token's logits [V] (the caller disposes them). */
  step(token: number, weights: DecoderWeights): tf.Tensor1D {
    const { nLayer, nHead, nEmbd, vocabSize, blockSize, activation, layerNormEps } = this.shape;
    if (this.disposed) throw new ValueError('FusedDecoder: used after dispose()');
    if (this.position >= blockSize) throw new ValueError(`FusedDecoder: position ${this.position} is past the context (${blockSize})`);
    if (!Number.isInteger(token) || token < 0 || token >= vocabSize) throw new ValueError(`FusedDecoder: token ${token} is not in [0, ${vocabSize - 1}]`);
    const { inputs, slots } = this.kernelInputs(weights);
    const attrs = {
      slots,
      table: this.blocks.table,
      token,
      pos: this.position,
      nLayer,
      nHead,
      nEmbd,
      vocabSize,
      blockSize,
      activation: ACTIVATIONS[activation],
      eps: layerNormEps,
      kCache: this.blocks.k,
      vCache: this.blocks.v,
      scratch: this.blocks.scratch,
    };
    const logits = tf.engine().runKernel(FUSED.decodeStep, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor1D;
    this.position += 1;
    return logits;
  }

  /** The weights as the kernel's named inputs s0..s{n-1}, table order (absent biases left out); made once per weights object. */
  private kernelInputs(weights: DecoderWeights): { inputs: Record<string, tf.Tensor>; slots: number } {
    if (this.inputsFor?.weights !== weights) {
      const table: (tf.Tensor | null)[] = [weights.wte, weights.wpe, ...weights.lnF, weights.head];
      for (const l of weights.layers) table.push(...l.ln1, ...l.attn, ...l.proj, ...l.ln2, ...l.fc, ...l.mlp);
      const inputs: Record<string, tf.Tensor> = {};
      table.forEach((t, i) => {
        if (t) inputs[`s${i}`] = t;
      });
      this.inputsFor = { weights, inputs, slots: table.length };
    }
    return this.inputsFor;
  }

  /**
   * Fill the caches from a batched forward's keys and values (one [1, H, t, d]
   * pair per layer, as @tx/attention's KVCache holds them): the positions
   * 0..t-1, computed in one pass instead of t steps. The next step is at t.
   */
  load(layers: readonly (readonly [tf.Tensor, tf.Tensor])[]): void {
    const { nLayer, nHead, nEmbd, blockSize } = this.shape;
    const d = nEmbd / nHead;
    const t = layers[0]?.[0].shape[2] ?? 0;
    if (layers.length !== nLayer || t > blockSize || layers.some(([k, v]) => k.shape.join() !== `1,${nHead},${t},${d}` || v.shape.join() !== k.shape.join())) {
      throw new ShapeError(`FusedDecoder.load: expected ${nLayer} layers of keys and values [1, ${nHead}, t <= ${blockSize}, ${d}]`);
    }
    const { backend } = loadedKernels()!;
    const bytes = this.heap.bytes();
    const row = 4 * t * d;
    layers.forEach(([k, v], l) => {
      for (const [tensor, cache] of [[k, this.blocks.k], [v, this.blocks.v]] as const) {
        const src = offsetOf(backend, tensor);
        for (let h = 0; h < nHead; h++) {
          const from = src + h * row;
          bytes.copyWithin(cache + 4 * (l * nHead + h) * blockSize * d, from, from + row);
        }
      }
    });
    this.position = t;
  }

  /** An independent copy: the same positions, caches copied. */
  clone(): FusedDecoder {
    const copy = FusedDecoder.create(this.shape);
    if (!copy) throw new ValueError("FusedDecoder.clone: @tx's wasm kernels are off; the copy could not be made");
    const bytes = this.heap.bytes(); // after create(): allocating may have grown the memory
    bytes.copyWithin(copy.blocks.k, this.blocks.k, this.blocks.k + this.cacheBytes);
    bytes.copyWithin(copy.blocks.v, this.blocks.v, this.blocks.v + this.cacheBytes);
    copy.position = this.position;
    return copy;
  }

  /** Free the caches (once: a second call does nothing). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const offset of Object.values(this.blocks)) this.heap.free(offset);
  }
}
