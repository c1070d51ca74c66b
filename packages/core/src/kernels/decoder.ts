// A GPT's batch-1 decoding as one wasm call per feed (kernels/decoder.ts), for
// @tx/blocks' decoding session: one token (a step) or many (a prompt, or a
// window recomputed past the context). The caches live in tfjs-wasm's heap,
// owned by this object; the weights are read where tfjs keeps them.
//
// The call goes to the kernel module directly, not through tfjs's engine: a
// step is ~150 µs of work, and a tfjs kernel call, its output tensor and the
// asynchronous read-back of the logits added ~50 µs to each.
import { ValueError } from '../errors.js';
import type { tf } from '../tf.js';
import { kernelsActive, loadedKernels } from './install.js';
import { offsetOf, wasmMemory, type WasmBackend } from './wasm.js';

/** A GPT's shape, as FusedDecoder needs it (nanoGPT's architecture: pre-norm, learned positions, tied head). */
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
 * The weights, as tensors of the model (read in place at every feed). Linear
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
/** Tokens per kernel call: a longer prompt goes in blocks of this many rows, so the scratch stays small. */
const ROWS = 64;

/** A fused decoder: feed tokens, get the next token's logits; keys and values stay in wasm. */
export class FusedDecoder {
  /** Positions held in the caches (the next token's position). */
  position = 0;
  private disposed = false;
  private readonly cacheBytes: number;
  /** The caches, and one block for the weights' table, a block of token ids and the logits. */
  private readonly blocks: { k: number; v: number; io: number };
  private readonly slots: number;

  private constructor(
    readonly shape: DecoderShape,
    /** The backend whose heap holds the caches: another one (a new wasm backend) must not be written. */
    private readonly backend: WasmBackend,
    private readonly heap: { malloc(bytes: number): number; free(offset: number): void },
  ) {
    const { nLayer, nEmbd, blockSize, vocabSize } = shape;
    this.cacheBytes = 4 * nLayer * blockSize * nEmbd;
    this.slots = 5 + 12 * nLayer;
    this.blocks = { k: heap.malloc(this.cacheBytes), v: heap.malloc(this.cacheBytes), io: heap.malloc(4 * (this.slots + ROWS + vocabSize)) };
  }

  /** A decoder for this shape, or null when @tx's wasm kernels are off or the widths are not multiples of 4. */
  static create(shape: DecoderShape): FusedDecoder | null {
    const loaded = loadedKernels();
    const d = shape.nEmbd / shape.nHead;
    if (!kernelsActive() || !loaded || shape.nEmbd % 4 !== 0 || !Number.isInteger(d) || d % 4 !== 0) return null;
    const { wasm } = loaded.backend;
    return new FusedDecoder(shape, loaded.backend, { malloc: (bytes) => wasm._malloc(bytes) >>> 0, free: (offset) => wasm._free(offset) });
  }

  /** False once the kernels were turned off or the backend changed: the caller falls back. */
  usable(): boolean {
    return kernelsActive() && loadedKernels()?.backend === this.backend;
  }

  /**
   * Feed tokens at positions `position`.. (a step, a prompt or a recomputed
   * window) and return the logits [V] of the token after the last. Set
   * `position = 0` first to start afresh.
   */
  feed(tokens: readonly number[], weights: DecoderWeights): Float32Array {
    const { nLayer, nHead, nEmbd, vocabSize, blockSize, activation, layerNormEps } = this.shape;
    if (this.disposed) throw new ValueError('FusedDecoder: used after dispose()');
    if (tokens.length === 0) throw new ValueError('FusedDecoder.feed: needs at least one token');
    if (!Number.isInteger(this.position) || this.position < 0) throw new ValueError(`FusedDecoder: position must be an integer >= 0, got ${this.position}`);
    if (this.position + tokens.length > blockSize) {
      throw new ValueError(`FusedDecoder: ${tokens.length} token(s) at position ${this.position} go past the context (${blockSize})`);
    }
    for (const token of tokens) {
      if (!Number.isInteger(token) || token < 0 || token >= vocabSize) throw new ValueError(`FusedDecoder: token ${token} is not in [0, ${vocabSize - 1}]`);
    }
    const loaded = loadedKernels();
    if (!loaded || !this.usable()) throw new ValueError("FusedDecoder: @tx's wasm kernels are off, or on another backend than this decoder's caches; check usable() before feeding");
    const { exports: kernels, backend } = loaded;
    const rows = Math.min(tokens.length, ROWS);
    const scratch = loaded.scratch(kernels.decodeScratch(nEmbd, nHead, blockSize, rows));
    // Offsets read now, after the scratch (which may grow the heap); a weight assigned new data moves, so every feed.
    const table = this.tableOf(weights).map((t, i) => {
      if (t?.isDisposed) throw new ValueError(`FusedDecoder: the weight in slot ${i} of the decoder's table was disposed`);
      return t ? offsetOf(backend, t) : 0;
    });
    const { io } = this.blocks;
    const ids = io + 4 * this.slots;
    const logits = ids + 4 * ROWS;
    // Views of the memory itself (not tfjs's HEAP views, which another thread's growth may leave stale).
    const memory = wasmMemory(backend);
    new Uint32Array(memory.buffer).set(table, io >>> 2);
    for (let at = 0; at < tokens.length; at += rows) {
      const chunk = tokens.slice(at, at + rows);
      new Int32Array(memory.buffer).set(chunk, ids >>> 2);
      const last = at + rows >= tokens.length; // only the last block's logits are wanted
      kernels.decode(io, ids, chunk.length, this.position + at, nLayer, nHead, nEmbd, vocabSize, blockSize, ACTIVATIONS[activation], layerNormEps, this.blocks.k, this.blocks.v, scratch, last ? logits : 0);
    }
    this.position += tokens.length;
    return new Float32Array(memory.buffer, logits, vocabSize).slice();
  }

  /** The weights in the kernel's table order (absent biases as null). */
  private tableOf(weights: DecoderWeights): (tf.Tensor | null)[] {
    const table: (tf.Tensor | null)[] = [weights.wte, weights.wpe, ...weights.lnF, weights.head];
    for (const l of weights.layers) table.push(...l.ln1, ...l.attn, ...l.proj, ...l.ln2, ...l.fc, ...l.mlp);
    return table;
  }

  /** An independent copy: the same positions, caches copied. */
  clone(): FusedDecoder {
    const copy = FusedDecoder.create(this.shape);
    if (!copy) throw new ValueError("FusedDecoder.clone: @tx's wasm kernels are off; the copy could not be made");
    const bytes = new Uint8Array(wasmMemory(this.backend).buffer); // after create(): allocating may have grown the memory
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
