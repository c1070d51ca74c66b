// The WebGPU decoder: a Decoder (generation.ts) that runs a pre-norm
// decoder's batch-1 forward on tfjs's webgpu backend in a few fused WGSL
// dispatches per layer, its keys and values kept in GPU buffers it owns. It
// is the sibling of the fused wasm decoder (kernels/decoder.ts) and reads the
// same layer description (DecoderLayout) and weights (DecoderWeights).
//
// tfjs's forward spends 15.5 dispatches per layer per token (q/k/v split,
// cache concat, norms, residual adds, activations apart: the per-token table
// in packages/core/README.md, WebGPU kernels). Here a layer is:
//   q, k and v    norm + projection: 1 dispatch (GPT-2's packed c_attn), or 3 (q, k, v apart)
//   attention     RoPE, the new rows' keys and values written into the caches, and
//                 causal (optionally windowed, grouped-query) attention: 1 dispatch
//   out           projection + residual: 1
//   feed-forward  norm + up (+ gate) + activation: 1; down + residual: 1
// so 5 dispatches for GPT-2's layout and 7 for the Llama family's, plus one for
// the embedding (and learned positions) and one for the final norm and the
// head on the last row; the logits are read back once per feed. Each
// "norm + linear" workgroup computes its row's mean and rstd itself (C
// floats), so a norm needs no dispatch of its own.
//
// The dispatches go through runProgram (program.ts), recorded into tfjs's own
// command encoder; intermediates are the backend's TensorInfos, freed as soon
// as they are recorded (the backend keeps a buffer until its commands are
// submitted).
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { ValueError } from '../errors.js';
import type { Decoder, StepOutput } from '../generation.js';
import { ropeTable, type Affine, type DecoderLayout, type DecoderWeights } from '../kernels/decoder.js';
import { tf } from '../tf.js';
import { GELU_WGSL } from '../ops/gelu.js';
import { BUILTINS, grid, item, ROW_SUM, runProgram, type Program, type WebGPUBackendLike } from './program.js';
import { webgpuKernelsActive } from './switch.js';

/** The largest head size the attention kernel holds in workgroup memory (4 columns per thread of 64). */
const MAX_HEAD_DIM = 256;
/** Rows of a transposed (tied) head per thread: 64 x this many per workgroup. */
const HEAD_ROWS_PER_THREAD = 4;
/** Rows of x per workgroup of a "norm + linear" over several rows: each weight read serves this many. */
const LINEAR_ROWS = 8;

/** Why the WebGPU decoder cannot run this description or these weights, or null when it can. */
export function webgpuUnsupported(layout: DecoderLayout, weights?: DecoderWeights): string | null {
  const { dModel, heads, kvHeads } = layout;
  const headDim = layout.headDim ?? dModel / heads;
  if (!Number.isInteger(headDim) || headDim < 1) return `a head size of dModel / heads = ${dModel} / ${heads}`;
  if (headDim > MAX_HEAD_DIM) return `a head size of ${headDim} (at most ${MAX_HEAD_DIM})`;
  if (layout.positions === 'rope' && headDim % 2 !== 0) return `RoPE on an odd head size (${headDim})`;
  if (!(kvHeads >= 1 && heads % kvHeads === 0)) return `${heads} query heads in groups of ${kvHeads} key/value heads`;
  if (layout.window !== undefined && !(Number.isInteger(layout.window) && layout.window >= 1)) return `a window of ${layout.window}`;
  if (layout.positions === 'learned' && weights && !weights.positions) return 'learned positions without their table';
  return null;
}

/** A model's decoding on tfjs's webgpu backend in a few fused dispatches per layer; keys and values stay on the GPU. */
export class WebGPUDecoder implements Decoder {
  /** Positions held in the caches (the next token's position); set to 0 to start afresh. */
  position = 0;
  private disposed = false;
  /** Per layer, its keys and values [context, kvHeads, headDim], written in place by the attention kernel. */
  private caches: Array<{ k: TensorInfo; v: TensorInfo }>;
  /** RoPE's cos and sin [context, headDim] (positions 'rope'), uploaded once. */
  private readonly rope: TensorInfo | null;

  private constructor(
    readonly layout: DecoderLayout,
    private readonly weights: DecoderWeights,
    /** The backend whose buffers hold the caches: another one must not be written. */
    private readonly backend: WebGPUBackendLike,
    caches?: Array<{ k: TensorInfo; v: TensorInfo }>,
  ) {
    const { context, kvHeads, layers } = layout;
    const size = context * kvHeads * this.headDim();
    const empty = () => backend.makeTensorInfo([size], 'float32');
    this.named = namedWeights(weights);
    this.caches = caches ?? Array.from({ length: layers }, () => ({ k: empty(), v: empty() }));
    this.rope = layout.positions === 'rope' ? backend.makeTensorInfo([context * this.headDim()], 'float32', ropeTable(context, this.headDim(), layout.ropeTheta ?? 10000)) : null;
  }

  private headDim(): number {
    return this.layout.headDim ?? this.layout.dModel / this.layout.heads;
  }

  /** A decoder for this description and these weights, or null unless tfjs is on webgpu with @tx's WGSL kernels on (useWebGPUKernels) and webgpuUnsupported finds nothing. */
  static create(layout: DecoderLayout, weights: DecoderWeights): WebGPUDecoder | null {
    if (tf.getBackend() !== 'webgpu' || !webgpuKernelsActive() || webgpuUnsupported(layout, weights) !== null) return null;
    return new WebGPUDecoder(layout, weights, tf.backend() as unknown as WebGPUBackendLike);
  }

  /** False once the WGSL kernels were turned off or the backend changed: the caller falls back. */
  usable(): boolean {
    return !this.disposed && webgpuKernelsActive() && tf.getBackend() === 'webgpu' && (tf.backend() as unknown) === this.backend;
  }

  /** Feed tokens at positions `position`.. (a step, a prompt or a recomputed window) and resolve to the logits [V] of the token after the last. */
  feed(tokens: readonly number[]): Promise<StepOutput> {
    let logits: TensorInfo;
    try {
      logits = this.record(tokens);
    } catch (err) {
      return Promise.reject(err);
    }
    const t = tf.engine().makeTensorFromTensorInfo(logits);
    return t.data().then(
      (values) => (t.dispose(), { logits: values as Float32Array }),
      (err) => (t.dispose(), Promise.reject(err)),
    );
  }

  /** Check everything (a refused feed leaves the caches as they were), then record the whole forward; returns the logits [V], not yet read. */
  private record(tokens: readonly number[]): TensorInfo {
    const { context, vocab, dModel: C, heads: H, kvHeads: KV } = this.layout;
    if (this.disposed) throw new ValueError('WebGPUDecoder: used after dispose()');
    if (tokens.length === 0) throw new ValueError('WebGPUDecoder.feed: needs at least one token');
    if (!Number.isInteger(this.position) || this.position < 0) throw new ValueError(`WebGPUDecoder: position must be an integer >= 0, got ${this.position}`);
    if (this.position + tokens.length > context) {
      throw new ValueError(`WebGPUDecoder: ${tokens.length} token(s) at position ${this.position} go past the context (${context})`);
    }
    for (const token of tokens) {
      if (!Number.isInteger(token) || token < 0 || token >= vocab) throw new ValueError(`WebGPUDecoder: token ${token} is not in [0, ${vocab - 1}]`);
    }
    if (!this.usable()) throw new ValueError("WebGPUDecoder: tfjs left this decoder's webgpu backend, or @tx's WGSL kernels are off; check usable() before feeding");
    this.checkWeights();

    const b = this.backend;
    const n = tokens.length;
    const pos0 = this.position;
    const D = this.headDim();
    const w = this.weights;
    const temps: TensorInfo[] = [];
    const keep = (t: TensorInfo) => (temps.push(t), t);
    const ids = keep(b.makeTensorInfo([n], 'int32', Int32Array.from(tokens)));
    let x = keep(runProgram(b, embedProgram(ids, w.embed, w.positions, n, C, pos0))[0]);
    const linear = (input: TensorInfo, l: LinearSpec) => keep(runProgram(b, linearProgram(input, l, this.layout))[0]);
    for (const [i, layer] of w.layers.entries()) {
      const norm1 = { kind: this.layout.norm, affine: layer.norm1 };
      const qkv = Array.isArray(layer.qkv)
        ? { packed: linear(x, { norm: norm1, weight: layer.qkv }) }
        : { q: linear(x, { norm: norm1, weight: layer.qkv.q }), k: linear(x, { norm: norm1, weight: layer.qkv.k }), v: linear(x, { norm: norm1, weight: layer.qkv.v }) };
      const attended = keep(runProgram(b, attentionProgram(qkv, this.rope, this.caches[i], { n, H, KV, D, pos0, window: this.windowSize() }))[0]);
      x = linear(attended, { weight: layer.proj, residual: x });
      const hidden = linear(x, { norm: { kind: this.layout.norm, affine: layer.norm2 }, weight: layer.up, gate: layer.gate ?? undefined, activation: this.layout.activation });
      x = linear(hidden, { weight: layer.down, residual: x });
    }
    const head = w.head ?? w.embed;
    const logits = runProgram(b, linearProgram(x, { norm: { kind: this.layout.norm, affine: w.normF }, weight: [head, null], transposed: !w.head, row: n - 1 }, this.layout))[0];
    // Freed now, released by the backend once the commands that use them are submitted.
    for (const t of temps) b.disposeData(t.dataId);
    this.position += n;
    return logits;
  }

  /** The window a query sees, or 0 for the whole context. */
  private windowSize(): number {
    const { window, context } = this.layout;
    return window !== undefined && window < context ? window : 0;
  }

  /** Every weight by name, listed once (the weights object is fixed); checkWeights reads it at each feed. */
  private readonly named: Array<[string, tf.Tensor]>;

  private checkWeights(): void {
    for (const [name, t] of this.named) {
      if (t.isDisposed) throw new ValueError(`WebGPUDecoder: the weight ${name} was disposed`);
      if (t.dtype !== 'float32') throw new ValueError(`WebGPUDecoder: the weight ${name} is ${t.dtype}, not float32`);
    }
  }

  /** An independent copy: the same positions, the caches copied on the GPU (one dispatch per layer). */
  clone(): WebGPUDecoder {
    if (!this.usable()) throw new ValueError("WebGPUDecoder.clone: tfjs left this decoder's webgpu backend, or it was disposed; the copy could not be made");
    const caches = this.caches.map(({ k, v }) => {
      const [k2, v2] = runProgram(this.backend, {
        key: 'decoder:copy',
        inputs: [{ name: 'ks', tensor: k }, { name: 'vs', tensor: v }],
        outputs: [{ name: 'kd', shape: k.shape }, { name: 'vd', shape: v.shape }],
        params: [{ name: 'size', type: 'u32', value: k.shape[0] }],
        workgroups: grid(k.shape[0], 64),
        body: `@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let i = ${item(64)};
  if (i < u.size) { kd[i] = ks[i]; vd[i] = vs[i]; }
}`,
      });
      return { k: k2, v: v2 };
    });
    const copy = new WebGPUDecoder(this.layout, this.weights, this.backend, caches);
    copy.position = this.position;
    return copy;
  }

  /** Free the caches (once: a second call does nothing). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const { k, v } of this.caches) {
      this.backend.disposeData(k.dataId);
      this.backend.disposeData(v.dataId);
    }
    if (this.rope) this.backend.disposeData(this.rope.dataId);
    this.caches = [];
  }
}

/** The weights by name (`layers.3.up.bias`), absent ones left out. */
function namedWeights(w: DecoderWeights): Array<[string, tf.Tensor]> {
  const named: Array<[string, tf.Tensor | null | undefined]> = [['embed', w.embed], ['positions', w.positions], ['normF', w.normF[0]], ['normF.bias', w.normF[1]], ['head', w.head]];
  w.layers.forEach((l, i) => {
    const affines: Array<[string, Affine | null]> = [['norm1', l.norm1], ['proj', l.proj], ['norm2', l.norm2], ['up', l.up], ['gate', l.gate], ['down', l.down]];
    if (Array.isArray(l.qkv)) affines.push(['qkv', l.qkv]);
    else affines.push(['q', l.qkv.q], ['k', l.qkv.k], ['v', l.qkv.v]);
    for (const [name, a] of affines) if (a) named.push([`layers.${i}.${name}`, a[0]], [`layers.${i}.${name}.bias`, a[1]]);
  });
  return named.filter((e): e is [string, tf.Tensor] => !!e[1]);
}

/** One "norm + linear" dispatch: y = act(norm(x) W + b) (gated: act(norm(x) Wg + bg) ∘ (norm(x) W + b)), plus a residual. */
interface LinearSpec {
  norm?: { kind: DecoderLayout['norm']; affine: Affine };
  /** [in, out], or [out, in] when transposed (the tied head: the embedding's rows). */
  weight: Affine;
  gate?: Affine;
  activation?: DecoderLayout['activation'];
  residual?: TensorInfo;
  transposed?: boolean;
  /** Only this row of x (the head reads the last); default every row. */
  row?: number;
}

const ACTIVATION_WGSL = `${GELU_WGSL}
fn act_gelu(x: f32) -> f32 { return geluExact(x); }
fn act_gelu_tanh(x: f32) -> f32 { return geluTanh(x); }
fn act_relu(x: f32) -> f32 { return max(x, 0.0); }
fn act_silu(x: f32) -> f32 { return x / (1.0 + exp(-x)); }
`;

function linearProgram(x: TensorInfo, spec: LinearSpec, layout: DecoderLayout): Program {
  const [weight, bias] = spec.weight;
  const [rows, K] = x.shape as [number, number];
  const [wRows, wCols] = weight.shape as [number, number];
  const M = spec.transposed ? wRows : wCols;
  const N = spec.row === undefined ? rows : 1;
  const norm = spec.norm?.kind ?? 'none';
  const normBias = spec.norm?.affine[1] ?? null;
  const gateBias = spec.gate?.[1] ?? null;
  const inputs = [
    { name: 'x', tensor: x },
    ...(spec.norm ? [{ name: 'g', tensor: spec.norm.affine[0] }] : []),
    ...(normBias ? [{ name: 'nb', tensor: normBias }] : []),
    { name: 'w', tensor: weight },
    ...(bias ? [{ name: 'b', tensor: bias }] : []),
    ...(spec.gate ? [{ name: 'wg', tensor: spec.gate[0] }] : []),
    ...(gateBias ? [{ name: 'bg', tensor: gateBias }] : []),
    ...(spec.residual ? [{ name: 'r', tensor: spec.residual }] : []),
  ];
  // The row's statistics, and x's column k normalized.
  const stats = {
    none: '',
    layerNorm: `var s = 0.0;
  for (var c = t; c < u.K; c += 64u) { s += x[base + c]; }
  let mu = rowSum(s, t) / f32(u.K);
  var s2 = 0.0;
  for (var c = t; c < u.K; c += 64u) { let d = x[base + c] - mu; s2 += d * d; }
  let r = inverseSqrt(rowSum(s2, t) / f32(u.K) + u.eps);`,
    rmsNorm: `var s2 = 0.0;
  for (var c = t; c < u.K; c += 64u) { let v = x[base + c]; s2 += v * v; }
  let r = inverseSqrt(rowSum(s2, t) / f32(u.K) + u.eps);`,
  }[norm];
  const normed = { none: 'x[base + k]', layerNorm: `(x[base + k] - mu) * r * g[k]${normBias ? ' + nb[k]' : ''}`, rmsNorm: 'x[base + k] * r * g[k]' }[norm];
  const act = (v: string) => (spec.activation ? `act_${spec.activation}(${v})` : v);
  // The epilogue of column `col` from its sums `acc` (and `accg`), stored at `row`.
  const store = (acc: string, accg: string) => {
    const value = spec.gate ? `${act(`${accg}${gateBias ? ' + bg[col]' : ''}`)} * (${acc}${bias ? ' + b[col]' : ''})` : act(`${acc}${bias ? ' + b[col]' : ''}`);
    return `y[row * u.M + col] = ${value}${spec.residual ? ' + r[row * u.M + col]' : ''};`;
  };
  const key = `decoder:linear:${norm}:${[normBias, bias, spec.gate, gateBias, spec.residual, spec.transposed].map((f) => (f ? 1 : 0)).join('')}:${spec.activation ?? ''}`;
  const common = {
    inputs,
    outputs: [{ name: 'y', shape: [N, M] }],
    params: [
      { name: 'N', type: 'u32', value: N },
      { name: 'K', type: 'u32', value: K },
      { name: 'M', type: 'u32', value: M },
      { name: 'row0', type: 'u32', value: spec.row ?? 0 },
      { name: 'eps', type: 'f32', value: layout.normEps },
    ] as Program['params'],
  };
  if (spec.transposed) {
    // y[j] = Σ_k norm(x)[k] W[j, k] for one row of x (the head on the last position): a thread per row j of W,
    // HEAD_ROWS_PER_THREAD of them each, streaming along its row, x normalized into workgroup memory 64 columns at a
    // time. Few workgroups: a software adapter (SwiftShader) pays for each far more than for its arithmetic (docs/performance.md §4).
    if (N !== 1) throw new Error('WebGPUDecoder: a transposed weight is read for one row only');
    const perGroup = 64 * HEAD_ROWS_PER_THREAD;
    return {
      key,
      ...common,
      workgroups: grid(Math.ceil(M / perGroup), 1),
      body: () => `${ROW_SUM}
${ACTIVATION_WGSL}
const RPT = ${HEAD_ROWS_PER_THREAD}u;
var<workgroup> tile: array<f32, 64>;
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let group = wid.y * nwg.x + wid.x;
  let j0 = group * 64u * RPT;
  if (j0 >= u.M) { return; }
  let t = lid.x;
  let row = 0u;
  let base = u.row0 * u.K;
  ${stats}
  var acc: array<f32, ${HEAD_ROWS_PER_THREAD}>;
  for (var k0 = 0u; k0 < u.K; k0 += 64u) {
    let k = k0 + t;
    if (k < u.K) { tile[t] = ${normed}; }
    workgroupBarrier();
    let count = min(64u, u.K - k0);
    for (var q = 0u; q < RPT; q++) {
      let j = j0 + q * 64u + t;
      if (j < u.M) {
        let at = j * u.K + k0;
        var sum = 0.0;
        for (var i = 0u; i < count; i++) { sum += tile[i] * w[at + i]; }
        acc[q] += sum;
      }
    }
    workgroupBarrier();
  }
  for (var q = 0u; q < RPT; q++) {
    let col = j0 + q * 64u + t;
    if (col < u.M) {
      ${store('acc[q]', '')}
    }
  }
}`,
    };
  }
  // y[row, col]: a workgroup per ROWS rows and 64 columns, so each weight read serves ROWS rows (a prompt, a
  // recomputed window); the rows' statistics first, then x normalized into workgroup memory 64 columns at a time.
  const R = N >= LINEAR_ROWS ? LINEAR_ROWS : 1;
  return {
    ...common,
    key: `${key}:${R}`,
    workgroups: grid(Math.ceil(N / R) * Math.ceil(M / 64), 1),
    body: () => `${ROW_SUM}
${ACTIVATION_WGSL}
const R = ${R}u;
var<workgroup> tile: array<f32, ${64 * R}>;
var<workgroup> stat: array<f32, ${2 * R}>;
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let blocks = (u.M + 63u) / 64u;
  let group = wid.y * nwg.x + wid.x;
  let first = (group / blocks) * R;
  if (first >= u.N) { return; }
  let t = lid.x;
  let col = (group % blocks) * 64u + t;
  for (var q = 0u; q < R; q++) {
    if (first + q < u.N) {
      let base = (u.row0 + first + q) * u.K;
      ${stats}
      if (t == 0u) { stat[2u * q] = ${norm === 'layerNorm' ? 'mu' : '0.0'}; stat[2u * q + 1u] = ${norm === 'none' ? '0.0' : 'r'}; }
    }
  }
  workgroupBarrier();
  var acc: array<f32, ${R}>;
  var accg: array<f32, ${R}>;
  for (var k0 = 0u; k0 < u.K; k0 += 64u) {
    let k = k0 + t;
    for (var q = 0u; q < R; q++) {
      if (k < u.K && first + q < u.N) {
        let base = (u.row0 + first + q) * u.K;
        let mu = stat[2u * q];
        let r = stat[2u * q + 1u];
        tile[q * 64u + t] = ${normed};
      }
    }
    workgroupBarrier();
    if (col < u.M) {
      let count = min(64u, u.K - k0);
      for (var j = 0u; j < count; j++) {
        let wv = w[(k0 + j) * u.M + col];${spec.gate ? '\n        let wgv = wg[(k0 + j) * u.M + col];' : ''}
        for (var q = 0u; q < R; q++) {
          acc[q] += tile[q * 64u + j] * wv;${spec.gate ? '\n          accg[q] += tile[q * 64u + j] * wgv;' : ''}
        }
      }
    }
    workgroupBarrier();
  }
  for (var q = 0u; q < R; q++) {
    let row = first + q;
    if (col < u.M && row < u.N) {
      ${store('acc[q]', 'accg[q]')}
    }
  }
}`,
  };
}

/** x [n, C] = embed[ids] (+ positions[pos0 + row]). */
function embedProgram(ids: TensorInfo, embed: tf.Tensor, positions: tf.Tensor | null, n: number, C: number, pos0: number): Program {
  return {
    key: `decoder:embed:${positions ? 'positions' : ''}`,
    inputs: [{ name: 'ids', tensor: ids }, { name: 'embed', tensor: embed }, ...(positions ? [{ name: 'wpe', tensor: positions }] : [])],
    outputs: [{ name: 'x', shape: [n, C] }],
    params: [{ name: 'size', type: 'u32', value: n * C }, { name: 'C', type: 'u32', value: C }, { name: 'pos0', type: 'u32', value: pos0 }],
    workgroups: grid(n * C, 64),
    body: () => `@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let i = ${item(64)};
  if (i >= u.size) { return; }
  let row = i / u.C;
  let c = i % u.C;
  x[i] = embed[u32(ids[row]) * u.C + c]${positions ? ' + wpe[(u.pos0 + row) * u.C + c]' : ''};
}`,
  };
}

interface AttentionShape {
  n: number;
  H: number;
  KV: number;
  D: number;
  pos0: number;
  window: number;
}

/**
 * Attention of the n new rows at positions pos0.. over the cached positions
 * and the new rows (causal, optionally windowed; grouped-query heads): a
 * workgroup per (row, query head). RoPE rotates q and k as they are read.
 * The first head of each key/value group writes the row's k and v into the
 * caches; every workgroup reads the new rows' k and v from the projection,
 * and the caches only below pos0, so no workgroup reads what another writes.
 * Keys go 64 at a time with an online softmax, so any context fits.
 */
function attentionProgram(
  qkv: { packed: TensorInfo } | { q: TensorInfo; k: TensorInfo; v: TensorInfo },
  rope: TensorInfo | null,
  cache: { k: TensorInfo; v: TensorInfo },
  s: AttentionShape,
): Program {
  const packed = 'packed' in qkv;
  const inputs = packed ? [{ name: 'qkv', tensor: qkv.packed }] : [{ name: 'q', tensor: qkv.q }, { name: 'k', tensor: qkv.k }, { name: 'v', tensor: qkv.v }];
  // Element d of row i's query head h, key/value head g: q, k and v side by side in one row, or apart.
  const read = packed
    ? `fn qAt(i: u32, h: u32, d: u32) -> f32 { return qkv[i * (u.H + 2u * u.KV) * u.D + h * u.D + d]; }
fn kAt(i: u32, g: u32, d: u32) -> f32 { return qkv[i * (u.H + 2u * u.KV) * u.D + (u.H + g) * u.D + d]; }
fn vAt(i: u32, g: u32, d: u32) -> f32 { return qkv[i * (u.H + 2u * u.KV) * u.D + (u.H + u.KV + g) * u.D + d]; }`
    : `fn qAt(i: u32, h: u32, d: u32) -> f32 { return q[(i * u.H + h) * u.D + d]; }
fn kAt(i: u32, g: u32, d: u32) -> f32 { return k[(i * u.KV + g) * u.D + d]; }
fn vAt(i: u32, g: u32, d: u32) -> f32 { return v[(i * u.KV + g) * u.D + d]; }`;
  // Rotated at position p (Hugging Face's rotate-half: channel d pairs with d ± D/2), or as they are.
  const rotated = rope
    ? `fn rotate(x: f32, partner: f32, d: u32, p: u32) -> f32 {
  let half = u.D / 2u;
  let c = d % half;
  let cs = rope[p * u.D + c];
  let sn = rope[p * u.D + half + c];
  return select(x * cs + partner * sn, x * cs - partner * sn, d < half);
}
fn partnerOf(d: u32) -> u32 { return select(d - u.D / 2u, d + u.D / 2u, d < u.D / 2u); }
fn qNew(i: u32, h: u32, d: u32, p: u32) -> f32 { return rotate(qAt(i, h, d), qAt(i, h, partnerOf(d)), d, p); }
fn kNew(i: u32, g: u32, d: u32, p: u32) -> f32 { return rotate(kAt(i, g, d), kAt(i, g, partnerOf(d)), d, p); }`
    : `fn qNew(i: u32, h: u32, d: u32, p: u32) -> f32 { return qAt(i, h, d); }
fn kNew(i: u32, g: u32, d: u32, p: u32) -> f32 { return kAt(i, g, d); }`;
  return {
    key: `decoder:attention:${packed ? 'packed' : 'apart'}:${rope ? 'rope' : ''}`,
    inputs: [...inputs, ...(rope ? [{ name: 'rope', tensor: rope }] : [])],
    inouts: [{ name: 'kc', tensor: cache.k }, { name: 'vc', tensor: cache.v }],
    outputs: [{ name: 'o', shape: [s.n, s.H * s.D] }],
    params: [
      { name: 'n', type: 'u32', value: s.n },
      { name: 'H', type: 'u32', value: s.H },
      { name: 'KV', type: 'u32', value: s.KV },
      { name: 'D', type: 'u32', value: s.D },
      { name: 'pos0', type: 'u32', value: s.pos0 },
      { name: 'win', type: 'u32', value: s.window },
      { name: 'scale', type: 'f32', value: 1 / Math.sqrt(s.D) },
    ],
    workgroups: grid(s.n * s.H, 1),
    body: () => `${ROW_SUM}
var<workgroup> redMax: array<f32, 64>;
fn rowMax(v: f32, t: u32) -> f32 {
  redMax[t] = v;
  workgroupBarrier();
  for (var w = 32u; w > 0u; w = w >> 1u) {
    if (t < w) { redMax[t] = max(redMax[t], redMax[t + w]); }
    workgroupBarrier();
  }
  let m = redMax[0];
  workgroupBarrier();
  return m;
}
${read}
${rotated}
var<workgroup> qs: array<f32, ${MAX_HEAD_DIM}>;
var<workgroup> probs: array<f32, 64>;
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let group = wid.y * nwg.x + wid.x;
  let i = group / u.H;
  if (i >= u.n) { return; }
  let h = group % u.H;
  let per = u.H / u.KV;
  let g = h / per;
  let t = lid.x;
  let p = u.pos0 + i;
  for (var d = t; d < u.D; d += 64u) { qs[d] = qNew(i, h, d, p) * u.scale; }
  if (h % per == 0u) {
    for (var d = t; d < u.D; d += 64u) {
      kc[(p * u.KV + g) * u.D + d] = kNew(i, g, d, p);
      vc[(p * u.KV + g) * u.D + d] = vAt(i, g, d);
    }
  }
  workgroupBarrier();
  let lo = select(0u, p + 1u - u.win, u.win > 0u && p + 1u > u.win);
  var m = -1e30;
  var l = 0.0;
  var acc: array<f32, ${MAX_HEAD_DIM / 64}>;
  for (var s0 = lo; s0 <= p; s0 += 64u) {
    let s = s0 + t;
    var score = -1e30;
    if (s <= p) {
      var dot = 0.0;
      if (s < u.pos0) {
        let kb = (s * u.KV + g) * u.D;
        for (var d = 0u; d < u.D; d++) { dot += qs[d] * kc[kb + d]; }
      } else {
        for (var d = 0u; d < u.D; d++) { dot += qs[d] * kNew(s - u.pos0, g, d, s); }
      }
      score = dot;
    }
    let mNew = max(m, rowMax(score, t));
    let e = select(0.0, exp(score - mNew), s <= p);
    let factor = exp(m - mNew);
    probs[t] = e;
    l = l * factor + rowSum(e, t);
    m = mNew;
    let count = min(64u, p + 1u - s0);
    for (var j = 0u; j < ${MAX_HEAD_DIM / 64}u; j++) {
      let d = t + 64u * j;
      if (d < u.D) {
        var a = acc[j] * factor;
        for (var q = 0u; q < count; q++) {
          let sq = s0 + q;
          if (sq < u.pos0) { a += probs[q] * vc[(sq * u.KV + g) * u.D + d]; } else { a += probs[q] * vAt(sq - u.pos0, g, d); }
        }
        acc[j] = a;
      }
    }
    workgroupBarrier();
  }
  for (var j = 0u; j < ${MAX_HEAD_DIM / 64}u; j++) {
    let d = t + 64u * j;
    if (d < u.D) { o[(i * u.H + h) * u.D + d] = acc[j] / l; }
  }
}`,
  };
}
