// The fused decoder: a Decoder (generation.ts) that runs a pre-norm decoder's
// whole forward for batch-1 decoding as one wasm call per feed
// (kernels/decoder.ts), its keys and values kept in tfjs-wasm's heap.
//
// It is a backend of the model's forward, not a second model: the model
// describes its layers (DecoderLayout: norm, activation and gating, position
// scheme, key/value heads) and lends its weights by name (DecoderWeights);
// the kernel runs what the description says: GPT-2's (LayerNorm, learned
// positions, GELU, q, k and v in one projection) and the Llama family's
// (RMSNorm, RoPE, a SiLU gate, fewer key/value heads, a head size of its own,
// a sliding window, q, k and v apart). What it cannot run (widths that are
// not multiples of 4) is refused by create(), with the reason from
// unsupported(), and the session keeps tfjs's forward.
//
// The job goes to the kernel module directly (install.ts's run), not through
// tfjs's engine: a step is ~150 µs of work, and a tfjs kernel call, its
// output tensor and the asynchronous read-back of the logits added ~50 µs.
import { ValueError } from '../errors.js';
import type { Decoder, StepOutput } from '../generation.js';
import type { tf } from '../tf.js';
import { kernelsActive, loadedKernels, run } from './install.js';
import { DECODER_SLOTS, jobs, type DecodeJob } from './jobs.generated.js';
import { offsetOf, wasmMemory, type WasmBackend } from './wasm.js';

/** What a model says of its layers, for the fused decoder (and what a Llama-family model will say of its own). */
export interface DecoderLayout {
  layers: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads: as many as `heads`, or fewer (grouped-query attention). */
  kvHeads: number;
  /** The width of a token's vector. */
  dModel: number;
  /** The feed-forward's inner width. */
  dFF: number;
  vocab: number;
  /** The context: the most positions the caches hold. */
  context: number;
  norm: 'layerNorm' | 'rmsNorm';
  normEps: number;
  /** The feed-forward's activation; with `gated`, act(x gate) ∘ (x up), as Llama's SwiGLU. */
  activation: 'gelu' | 'gelu_tanh' | 'relu' | 'silu';
  gated: boolean;
  /** Learned position embeddings added to the tokens', or RoPE rotating q and k. */
  positions: 'learned' | 'rope';
  /** RoPE's base (with positions 'rope': Llama 2's 10,000, Llama 3's 500,000). */
  ropeTheta?: number;
  /** The size of a head, where it is not dModel / heads (some Llama-family models). */
  headDim?: number;
  /** How far back a query sees (Mistral's sliding window), where it does not see the whole context. */
  window?: number;
}

/** A weight and its optional bias (or norm gain and optional bias). */
export type Affine = [tf.Tensor, tf.Tensor | null];

/** The query, key and value projections held apart (Hugging Face's q_proj, k_proj, v_proj). */
export interface SeparateQKV {
  q: Affine;
  k: Affine;
  v: Affine;
}

/** One layer's weights, as the model holds them (Linear weights [in, out]). */
export interface DecoderLayerWeights {
  norm1: Affine;
  /** q, k and v side by side in one projection [C, (heads + 2 kvHeads) headDim] (GPT-2's c_attn), or held apart. */
  qkv: Affine | SeparateQKV;
  proj: Affine;
  norm2: Affine;
  up: Affine;
  /** The gate's projection of a gated feed-forward, else null. */
  gate: Affine | null;
  down: Affine;
}

/** The weights, as tensors of the model: read in place at every feed (a variable assigned new values moves, so offsets are read then). */
export interface DecoderWeights {
  /** The token embedding [V, C]. */
  embed: tf.Tensor;
  /** Learned positions [context, C], or null (RoPE). */
  positions: tf.Tensor | null;
  normF: Affine;
  /** The output layer [C, V], or null when tied to the embedding: its rows are read, no transposed copy is made. */
  head: tf.Tensor | null;
  layers: DecoderLayerWeights[];
}

const NORMS = { layerNorm: 0, rmsNorm: 1 } as const;
const ACTIVATIONS = { gelu: 0, gelu_tanh: 1, relu: 2, silu: 3 } as const;
const POSITIONS = { learned: 0, rope: 1 } as const;
/** Tokens per kernel call: a longer prompt goes in blocks of this many rows, so the scratch stays small. */
const ROWS = 64;

/** Why the fused kernel cannot run this description, or these weights (what kernels/decoder.ts has no code for), or null when it can. */
export function unsupported(layout: DecoderLayout, weights?: DecoderWeights): string | null {
  const { dModel, heads, kvHeads } = layout;
  const headDim = layout.headDim ?? dModel / heads;
  if (!Number.isInteger(headDim)) return `a head size of dModel / heads = ${dModel} / ${heads}`;
  if (!(kvHeads >= 1 && heads % kvHeads === 0)) return `${heads} query heads in groups of ${kvHeads} key/value heads`;
  if (dModel % 4 !== 0 || headDim % 4 !== 0) return 'widths that are not multiples of 4';
  if (layout.window !== undefined && !(Number.isInteger(layout.window) && layout.window >= 1)) return `a window of ${layout.window}`;
  if (layout.positions === 'learned' && weights && !weights.positions) return 'learned positions without their table';
  return null;
}

/** A model's decoding as one wasm call per feed; keys and values stay in wasm. */
export class FusedDecoder implements Decoder {
  /** Positions held in the caches (the next token's position); set to 0 to start afresh. */
  position = 0;
  private disposed = false;
  private readonly cacheBytes: number;
  /** The caches, one block for the weights' table, a block of token ids and the logits, and RoPE's table (0 without). */
  private readonly blocks: { k: number; v: number; io: number; rope: number };
  private readonly slots: number;
  /** The table's slots by name, built once: the weights object is fixed, only the tensors' offsets change between feeds. */
  private readonly slotList: Slot[];
  /**
   * The decode job, made once: per feed only its rows, position, scratch and
   * logits change. Not rebuilt with `{ ...shape, more }`: in Node 20's V8 that
   * spread costs tens of µs, a fifth of a W1 step's 80 (docs/performance.md).
   */
  private readonly job: DecodeJob;
  private readonly logits: { offset: number; bytes: number };
  private readonly scratchBytes = new Map<number, number>();

  private constructor(
    readonly layout: DecoderLayout,
    private readonly weights: DecoderWeights,
    /** The backend whose heap holds the caches: another one (a new wasm backend) must not be written. */
    private readonly backend: WasmBackend,
  ) {
    const { layers, context, vocab, kvHeads } = layout;
    const headDim = this.headDim();
    this.cacheBytes = 4 * layers * context * kvHeads * headDim; // only the key/value heads
    this.slots = DECODER_SLOTS.header.length + DECODER_SLOTS.layer.length * layers;
    const malloc = (bytes: number) => backend.wasm._malloc(bytes) >>> 0;
    const rope = layout.positions === 'rope' ? malloc(4 * context * headDim) : 0;
    this.blocks = { k: malloc(this.cacheBytes), v: malloc(this.cacheBytes), io: malloc(4 * (this.slots + ROWS + vocab)), rope };
    if (rope) new Float32Array(wasmMemory(backend).buffer, rope, context * headDim).set(ropeTable(context, headDim, layout.ropeTheta ?? 10000));
    this.slotList = slotsOf(weights, rope);
    const ids = this.blocks.io + 4 * this.slots;
    this.logits = { offset: ids + 4 * ROWS, bytes: 4 * vocab };
    this.job = this.makeJob(ids);
  }

  private headDim(): number {
    return this.layout.headDim ?? this.layout.dModel / this.layout.heads;
  }

  /** A decoder for this description and these weights, or null when @tx's wasm kernels are off or the kernel cannot run it (unsupported). */
  static create(layout: DecoderLayout, weights: DecoderWeights): FusedDecoder | null {
    const loaded = loadedKernels();
    if (!kernelsActive() || !loaded || unsupported(layout, weights) !== null) return null;
    return new FusedDecoder(layout, weights, loaded.backend);
  }

  /** False once the kernels were turned off or the backend changed: the caller falls back. */
  usable(): boolean {
    return kernelsActive() && loadedKernels()?.backend === this.backend;
  }

  /** Feed tokens at positions `position`.. (a step, a prompt or a recomputed window) and return the logits [V] of the token after the last. */
  feed(tokens: readonly number[]): Promise<StepOutput> {
    try {
      return Promise.resolve({ logits: this.feedNow(tokens) });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** feed, synchronously: it checks everything before it writes, so a refused feed leaves the caches as they were. */
  feedNow(tokens: readonly number[]): Float32Array {
    const { context, vocab } = this.layout;
    if (this.disposed) throw new ValueError('FusedDecoder: used after dispose()');
    if (tokens.length === 0) throw new ValueError('FusedDecoder.feed: needs at least one token');
    if (!Number.isInteger(this.position) || this.position < 0) throw new ValueError(`FusedDecoder: position must be an integer >= 0, got ${this.position}`);
    if (this.position + tokens.length > context) {
      throw new ValueError(`FusedDecoder: ${tokens.length} token(s) at position ${this.position} go past the context (${context})`);
    }
    for (const token of tokens) {
      if (!Number.isInteger(token) || token < 0 || token >= vocab) throw new ValueError(`FusedDecoder: token ${token} is not in [0, ${vocab - 1}]`);
    }
    if (!this.usable()) throw new ValueError("FusedDecoder: @tx's wasm kernels are off, or on another backend than this decoder's caches; check usable() before feeding");
    const { io } = this.blocks;
    const ids = io + 4 * this.slots;
    // Views of the memory itself (not tfjs's HEAP views, which another thread's growth may leave stale).
    const memory = wasmMemory(this.backend);
    this.writeTable(new Uint32Array(memory.buffer, io, this.slots));
    const rows = Math.min(tokens.length, ROWS);
    const job = this.job;
    job.scratch = this.scratchFor(rows);
    for (let at = 0; at < tokens.length; at += rows) {
      const chunk = tokens.slice(at, at + rows);
      new Int32Array(memory.buffer).set(chunk, ids >>> 2);
      job.tokens.bytes = 4 * chunk.length;
      job.n = chunk.length;
      job.pos = this.position + at;
      job.logits = at + rows >= tokens.length ? this.logits : null; // only the last block's logits are wanted
      run(jobs.decode(job));
    }
    this.position += tokens.length;
    return new Float32Array(memory.buffer, this.logits.offset, vocab).slice();
  }

  /** Scratch bytes for feeds of `rows` rows, asked of the kernel module once per row count (a step is ~80 µs: each call counts). */
  private scratchFor(rows: number): number {
    let bytes = this.scratchBytes.get(rows);
    if (bytes === undefined) {
      const l = this.layout;
      bytes = loadedKernels()!.exports.decodeScratch(l.dModel, l.heads, l.kvHeads, this.headDim(), l.dFF, l.context, rows);
      this.scratchBytes.set(rows, bytes);
    }
    return bytes;
  }

  /** The decode job for this layout and these blocks; feedNow sets its rows, position, scratch and logits. */
  private makeJob(ids: number): DecodeJob {
    const l = this.layout;
    const { io, k, v } = this.blocks;
    return {
      layers: l.layers, heads: l.heads, kvHeads: l.kvHeads, dModel: l.dModel, dFF: l.dFF, vocab: l.vocab, context: l.context,
      norm: NORMS[l.norm], activation: ACTIVATIONS[l.activation], gated: l.gated, positions: POSITIONS[l.positions], eps: l.normEps,
      headDim: this.headDim(), window: l.window !== undefined && l.window < l.context ? l.window : 0,
      weights: { offset: io, bytes: 4 * this.slots }, tokens: { offset: ids, bytes: 0 }, n: 0, pos: 0,
      kCache: { offset: k, bytes: this.cacheBytes }, vCache: { offset: v, bytes: this.cacheBytes }, logits: null, scratch: 0,
    };
  }

  /** Write the weights' offsets in the slots' order (0 for an absent one) into `words`; read at every feed, as assigned variables move. */
  private writeTable(words: Uint32Array): void {
    for (let i = 0; i < this.slotList.length; i++) {
      const [name, t] = this.slotList[i];
      if (t !== null && typeof t !== 'number' && t.isDisposed) throw new ValueError(`FusedDecoder: the weight ${name} was disposed`);
      words[i] = t === null ? 0 : typeof t === 'number' ? t : offsetOf(this.backend, t);
    }
  }

  /** An independent copy: the same positions, caches copied. */
  clone(): FusedDecoder {
    const copy = FusedDecoder.create(this.layout, this.weights);
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
    for (const offset of Object.values(this.blocks)) if (offset) this.backend.wasm._free(offset);
  }
}

/** A slot of the weights' table: its name (for errors), and its tensor, a fixed offset (RoPE's table) or null (absent). */
type Slot = readonly [string, tf.Tensor | number | null];

/** The weights in the slots' order (kernels/table.mjs). */
function slotsOf(w: DecoderWeights, rope: number): Slot[] {
  const header: Record<(typeof DECODER_SLOTS.header)[number], tf.Tensor | number | null> = {
    embed: w.embed, positions: w.positions, rope, normF: w.normF[0], normFBias: w.normF[1], head: w.head,
  };
  const slots: Slot[] = DECODER_SLOTS.header.map((name) => [name, header[name]] as const);
  w.layers.forEach((l, i) => {
    const [qkv, apart] = Array.isArray(l.qkv) ? [l.qkv, null] : [[null, null] as const, l.qkv];
    const slot: Record<(typeof DECODER_SLOTS.layer)[number], tf.Tensor | null> = {
      norm1: l.norm1[0], norm1Bias: l.norm1[1], qkv: qkv[0], qkvBias: qkv[1], proj: l.proj[0], projBias: l.proj[1], norm2: l.norm2[0], norm2Bias: l.norm2[1],
      q: apart?.q[0] ?? null, qBias: apart?.q[1] ?? null, k: apart?.k[0] ?? null, kBias: apart?.k[1] ?? null, v: apart?.v[0] ?? null, vBias: apart?.v[1] ?? null,
      up: l.up[0], upBias: l.up[1], gate: l.gate?.[0] ?? null, gateBias: l.gate?.[1] ?? null, down: l.down[0], downBias: l.down[1],
    };
    slots.push(...DECODER_SLOTS.layer.map((name) => [`layers.${i}.${name}`, slot[name]] as const));
  });
  return slots;
}

/**
 * RoPE's cos and sin for positions 0..context-1 [context, headDim]: per position
 * the cos, then the sin, of its headDim / 2 angles pos · base^(-2c/headDim),
 * in float64 as @tx/positional's rotaryAngle (Hugging Face's rotate-half layout).
 * Also read by the WebGPU decoder (webgpu/decoder.ts).
 */
export function ropeTable(context: number, headDim: number, base: number): Float32Array {
  const half = headDim / 2;
  const table = new Float32Array(context * headDim);
  const inverse = Array.from({ length: half }, (_, c) => Math.pow(base, (-2 * c) / headDim)); // per channel, once
  for (let pos = 0; pos < context; pos++) {
    for (let c = 0; c < half; c++) {
      const angle = pos * inverse[c];
      table[pos * headDim + c] = Math.cos(angle);
      table[pos * headDim + half + c] = Math.sin(angle);
    }
  }
  return table;
}
