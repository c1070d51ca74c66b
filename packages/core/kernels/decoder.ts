// A pre-norm decoder's forward in wasm, for batch-1 decoding: n consecutive
// tokens of one sequence per call, one (a decoding step) or many (a prompt,
// or a window recomputed past the context). What takes ~300 tfjs kernels per
// call is one walk over the weights, so a step is bound by reading them, not
// by launches. It is a backend of the model's forward, not a second model:
// the model describes its layers (src/kernels/decoder.ts's DecoderLayout) and
// hands over its weights; this file runs what the description says.
//
//   x = embed[token] (+ positions[pos], learned positions)
//   per layer: x += proj(attention(qkv(norm1(x)))), x += down(act(up(norm2(x))))
//                                   (gated: down(act(gate(h)) ∘ up(h)), Llama's SwiGLU)
//   logits = normF(x) · head      (head absent: tied, the embedding's rows)
//
// The description's settings: LayerNorm or RMSNorm; GELU (exact or tanh),
// ReLU or SiLU, gated or not; learned positions or RoPE in Hugging Face's
// rotate-half layout (channels c and c + d/2 of a head turned by
// pos · base^(-2c/d); the caller passes the cos and sin table, its angles in
// float64 as @tx/positional's: the stdlib's Math.cos would bring a data segment);
// kvHeads key/value heads of headDim each, query head i reading key/value
// head i / (heads / kvHeads) (transformers' repeat_kv); a sliding window
// (a query at p sees keys p - window + 1..p, as @tx/attention's mask); q, k
// and v in one projection (GPT-2's c_attn) or apart (Hugging Face's q_proj,
// k_proj, v_proj), each with an optional bias.
//
// One row goes through matvec (weights read once, straight from tfjs's
// layout); several through the packed matmul, a block of columns at a time
// so its scratch stays small for GPT-2's widths. Weights are where tfjs keeps
// them; the caller passes their offsets in a table whose slots
// kernels/table.mjs declares (0 for an absent bias). Keys and values go to
// caches laid out [layer][kvHead][position][headDim].
import { attentionForward, attentionScratch } from './attention';
import { gelu } from './gelu';
import { layerNorm } from './layernorm';
import { exp4, hsum, madd, ONE } from './math';
import { matmulPanels, MR, NR, panelCount } from './matmul';
import { rmsNorm } from './rmsnorm';
import { siluGate } from './silugate';
import {
  LAYER_down, LAYER_downBias, LAYER_gate, LAYER_gateBias, LAYER_k, LAYER_kBias, LAYER_norm1, LAYER_norm1Bias, LAYER_norm2, LAYER_norm2Bias,
  LAYER_proj, LAYER_projBias, LAYER_q, LAYER_qBias, LAYER_qkv, LAYER_qkvBias, LAYER_SLOTS, LAYER_v, LAYER_vBias, LAYER_up, LAYER_upBias, SLOT_embed, SLOT_head, SLOT_HEADER, SLOT_normF, SLOT_normFBias, SLOT_positions, SLOT_rope,
} from './slots.generated';

// @ts-ignore: decorator
@inline function entry(table: usize, i: i32): usize {
  return <usize>load<u32>(table + (<usize>i << 2));
}


/** Panels of B (NR = 8 columns each) that one matmul call packs: bounds the scratch for wide layers. */
const BLOCK_PANELS: i32 = 32;

/**
 * y[N] = x[K] · W[K, N] (+ b[N] when b != 0), W row-major; 24 columns at a
 * time in six registers. Six, not eight: V8's register allocator has 15 SIMD
 * registers, and eight accumulators plus eight loads spill one accumulator to
 * the stack at every k (1.4x slower, measured).
 */
function matvec(x: usize, w: usize, b: usize, y: usize, K: i32, N: i32): void {
  const row = <usize>N << 2;
  let j = 0;
  for (; j + 24 <= N; j += 24) {
    const col = <usize>j << 2;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0), a4 = f32x4.splat(0), a5 = f32x4.splat(0);
    let p = w + col;
    for (let k = 0; k < K; k++) {
      const xk = v128.load32_splat(x + (<usize>k << 2));
      a0 = madd(xk, v128.load(p), a0);
      a1 = madd(xk, v128.load(p, 16), a1);
      a2 = madd(xk, v128.load(p, 32), a2);
      a3 = madd(xk, v128.load(p, 48), a3);
      a4 = madd(xk, v128.load(p, 64), a4);
      a5 = madd(xk, v128.load(p, 80), a5);
      p += row;
    }
    v128.store(y + col, a0);
    v128.store(y + col, a1, 16);
    v128.store(y + col, a2, 32);
    v128.store(y + col, a3, 48);
    v128.store(y + col, a4, 64);
    v128.store(y + col, a5, 80);
  }
  for (; j + 8 <= N; j += 8) {
    const col = <usize>j << 2;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    let p = w + col;
    for (let k = 0; k < K; k++) {
      const xk = v128.load32_splat(x + (<usize>k << 2));
      a0 = madd(xk, v128.load(p), a0);
      a1 = madd(xk, v128.load(p, 16), a1);
      p += row;
    }
    v128.store(y + col, a0);
    v128.store(y + col, a1, 16);
  }
  for (; j + 4 <= N; j += 4) {
    const col = <usize>j << 2;
    let a = f32x4.splat(0);
    let p = w + col;
    for (let k = 0; k < K; k++) {
      a = madd(v128.load32_splat(x + (<usize>k << 2)), v128.load(p), a);
      p += row;
    }
    v128.store(y + col, a);
  }
  for (; j < N; j++) {
    const col = <usize>j << 2;
    let a: f32 = 0;
    let p = w + col;
    for (let k = 0; k < K; k++) {
      a += load<f32>(x + (<usize>k << 2)) * load<f32>(p);
      p += row;
    }
    store<f32>(y + col, a);
  }
  if (b) addBias(y, b, 1, N);
}

/**
 * y[N] = W[N, K] · x[K] with W's rows contiguous: a tied head, reading the
 * embedding's rows instead of a transposed copy. Four rows at a time; K is a
 * multiple of 4.
 */
function rowDots(x: usize, w: usize, y: usize, K: i32, N: i32): void {
  const row = <usize>K << 2;
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const w0 = w + <usize>j * row, w1 = w0 + row, w2 = w1 + row, w3 = w2 + row;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let k = 0; k < K; k += 4) {
      const at = <usize>k << 2;
      const xk = v128.load(x + at);
      a0 = madd(xk, v128.load(w0 + at), a0);
      a1 = madd(xk, v128.load(w1 + at), a1);
      a2 = madd(xk, v128.load(w2 + at), a2);
      a3 = madd(xk, v128.load(w3 + at), a3);
    }
    const out = y + (<usize>j << 2);
    store<f32>(out, hsum(a0));
    store<f32>(out, hsum(a1), 4);
    store<f32>(out, hsum(a2), 8);
    store<f32>(out, hsum(a3), 12);
  }
  for (; j < N; j++) {
    const wj = w + <usize>j * row;
    let a = f32x4.splat(0);
    for (let k = 0; k < K; k += 4) a = madd(v128.load(x + (<usize>k << 2)), v128.load(wj + (<usize>k << 2)), a);
    store<f32>(y + (<usize>j << 2), hsum(a));
  }
}

/** y[n, N] = x[n, K] · W[K, N] (+ b): matvec for one row, else the packed matmul, BLOCK_PANELS at a time. */
function linear(x: usize, w: usize, b: usize, y: usize, n: i32, K: i32, N: i32, scratch: usize): void {
  if (n == 1) {
    matvec(x, w, b, y, K, N);
    return;
  }
  const panels = panelCount(N);
  for (let p0 = 0; p0 < panels; p0 += BLOCK_PANELS) matmulPanels(x, K, 1, w, N, 1, y, n, N, K, p0, min(panels, p0 + BLOCK_PANELS), scratch);
  if (b) addBias(y, b, n, N);
}

/** y[r] += b for each of n rows of N. */
function addBias(y: usize, b: usize, n: i32, N: i32): void {
  const whole = N & ~3;
  for (let r = 0; r < n; r++) {
    const row = y + (<usize>(r * N) << 2);
    for (let i = 0; i < whole; i += 4) {
      const at = <usize>i << 2;
      v128.store(row + at, f32x4.add(v128.load(row + at), v128.load(b + at)));
    }
    for (let i = whole; i < N; i++) {
      const at = <usize>i << 2;
      store<f32>(row + at, load<f32>(row + at) + load<f32>(b + at));
    }
  }
}

// @ts-ignore: decorator
@inline function addInto(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const at = <usize>i << 2;
    v128.store(x + at, f32x4.add(v128.load(x + at), v128.load(y + at)));
  }
}

/**
 * o[d] = softmax(q · kᵀ · scale) · v over `count` cached positions of one
 * head (keys and values [count, d], from the first one the query sees); att
 * holds the scores.
 */
function attendRow(q: usize, keys: usize, values: usize, count: i32, d: i32, scale: f32, att: usize, o: usize): void {
  const rowBytes = <usize>d << 2;
  let max: f32 = -Infinity;
  for (let t = 0; t < count; t++) {
    const k = keys + <usize>t * rowBytes;
    let s = f32x4.splat(0);
    for (let i = 0; i < d; i += 4) s = madd(v128.load(q + (<usize>i << 2)), v128.load(k + (<usize>i << 2)), s);
    const score = hsum(s) * scale;
    store<f32>(att + (<usize>t << 2), score);
    if (score > max) max = score;
  }
  // Exponentials four at a time; the scores past `count` in the padded lanes are not summed.
  const max4 = f32x4.splat(max);
  let sum: f32 = 0;
  for (let t = 0; t < count; t += 4) {
    const at = att + (<usize>t << 2);
    const e = exp4(f32x4.sub(v128.load(at), max4));
    v128.store(at, e);
  }
  for (let t = 0; t < count; t++) sum += load<f32>(att + (<usize>t << 2));
  const inv = <f32>1 / sum;
  for (let i = 0; i < d; i += 4) v128.store(o + (<usize>i << 2), f32x4.splat(0));
  for (let t = 0; t < count; t++) {
    const p = f32x4.splat(load<f32>(att + (<usize>t << 2)) * inv);
    const v = values + <usize>t * rowBytes;
    for (let i = 0; i < d; i += 4) {
      const at = <usize>i << 2;
      v128.store(o + at, madd(p, v128.load(v + at), v128.load(o + at)));
    }
  }
}

/**
 * Rotate `heads` heads of d channels (one row, heads side by side) by the row's
 * angles: (a, b) = (x[c], x[c + d/2]) -> (a cos - b sin, b cos + a sin).
 * d/2 is a multiple of 2, so halves of 4 go by vector and the rest one by one.
 */
function rotate(x: usize, heads: i32, d: i32, cos: usize, sin: usize): void {
  const half = d >> 1;
  const whole = half & ~3;
  const halfBytes = <usize>half << 2;
  for (let h = 0; h < heads; h++) {
    const a = x + <usize>(h * d) * 4;
    const b = a + halfBytes;
    for (let c = 0; c < whole; c += 4) {
      const at = <usize>c << 2;
      const ac = v128.load(a + at), bc = v128.load(b + at), co = v128.load(cos + at), si = v128.load(sin + at);
      v128.store(a + at, f32x4.sub(f32x4.mul(ac, co), f32x4.mul(bc, si)));
      v128.store(b + at, f32x4.add(f32x4.mul(bc, co), f32x4.mul(ac, si)));
    }
    for (let c = whole; c < half; c++) {
      const at = <usize>c << 2;
      const ac = load<f32>(a + at), bc = load<f32>(b + at), co = load<f32>(cos + at), si = load<f32>(sin + at);
      store<f32>(a + at, ac * co - bc * si);
      store<f32>(b + at, bc * co + ac * si);
    }
  }
}

/** y = silu(x) = x / (1 + e^-x), for count floats. */
function silu(x: usize, y: usize, count: i32): void {
  const whole = count & ~3;
  for (let i = 0; i < whole; i += 4) {
    const at = <usize>i << 2;
    const v = v128.load(x + at);
    v128.store(y + at, f32x4.div(v, f32x4.add(ONE, exp4(f32x4.neg(v)))));
  }
  for (let i = whole; i < count; i++) {
    const at = <usize>i << 2;
    const v = f32x4.splat(load<f32>(x + at));
    store<f32>(y + at, f32x4.extract_lane(f32x4.div(v, f32x4.add(ONE, exp4(f32x4.neg(v)))), 0));
  }
}

/** ff = act(ff), or gated: ff = act(gate) ∘ ff, for count floats (activation 0 GELU, 1 tanh GELU, 2 ReLU, 3 SiLU). */
function activate(ff: usize, gate: usize, count: i32, activation: i32, gated: bool): void {
  // Llama's SwiGLU: silugate.ts's one pass, silu(gate) · up written over up.
  if (gated && activation == 3) {
    siluGate(gate, ff, ff, 0, count);
    return;
  }
  const a = gated ? gate : ff;
  if (activation == 3) silu(a, a, count);
  else if (activation == 2) {
    for (let i = 0; i < count; i++) store<f32>(a + (<usize>i << 2), max<f32>(load<f32>(a + (<usize>i << 2)), 0));
  } else gelu(a, a, activation == 1, 0, count);
  if (!gated) return;
  const whole = count & ~3;
  for (let i = 0; i < whole; i += 4) {
    const at = <usize>i << 2;
    v128.store(ff + at, f32x4.mul(v128.load(ff + at), v128.load(gate + at)));
  }
  for (let i = whole; i < count; i++) store<f32>(ff + (<usize>i << 2), load<f32>(ff + (<usize>i << 2)) * load<f32>(gate + (<usize>i << 2)));
}

/** y[n, C] = norm(x): LayerNorm (kind 0, with its bias) or RMSNorm (1); stats holds 2n floats. */
function normalize(kind: i32, x: usize, w: usize, b: usize, y: usize, stats: usize, n: i32, C: i32, eps: f32): void {
  if (kind == 1) rmsNorm(x, w, y, stats, n, C, eps);
  else layerNorm(x, w, b, y, stats, stats + (<usize>n << 2), n, C, eps);
}

/**
 * Floats of the buffers for n rows before the shared work area: x, h, q|k|v,
 * attention's output, ff and the gate, norm stats, scores, and a head's q,
 * output and lse.
 */
// @ts-ignore: decorator
@inline function bufferFloats(C: i32, H: i32, kvHeads: i32, d: i32, F: i32, T: i32, n: i32): i32 {
  const Q = H * d;
  return n * (C + C + Q + 2 * kvHeads * d + Q + 2 * F) + 2 * n + ((T + 3) & ~3) + 2 * n * d + ((n + 3) & ~3);
}

/** Bytes of scratch that decode needs for up to `rows` tokens per call (dModel C, H query heads, kvHeads, headDim d, dFF F, context T). */
export function decodeScratch(C: i32, H: i32, kvHeads: i32, d: i32, F: i32, T: i32, rows: i32): usize {
  // The work area: the packed matmul's, or attention's for rows > 1 (never both at once).
  const K = max(max(C, F), H * d);
  const packed = <usize>(BLOCK_PANELS * NR * K + MR * K + MR * NR) << 2;
  const work = rows > 1 ? max(packed, attentionScratch(rows, T, d)) : 0;
  return (<usize>bufferFloats(C, H, kvHeads, d, F, T, rows) << 2) + 16 + work;
}

/**
 * Feed n tokens (int32 at `tokens`) at positions pos..pos+n-1 (those before
 * are in the caches): append their keys and values, and write the logits [V]
 * of the token after the last at `logits` (unless 0: a prompt's earlier
 * blocks). pos + n <= T; scratch holds decodeScratch(C, H, kvHeads, headDim,
 * F, T, n) bytes. The layer description (kernels/table.mjs): norm 0
 * LayerNorm, 1 RMSNorm; activation 0 exact GELU, 1 tanh GELU, 2 ReLU, 3 SiLU,
 * `gated` for act(gate) ∘ up; positions 0 learned, 1 RoPE (the table's rope
 * slot: per position, the cos then the sin of its d/2 angles);
 * window 0 for the whole context. C and headDim must be multiples of 4.
 */
export function decode(
  table: usize, tokens: usize, n: i32, pos: i32,
  L: i32, H: i32, kvHeads: i32, C: i32, F: i32, V: i32, T: i32,
  norm: i32, activation: i32, gated: bool, positions: i32, eps: f32, headDim: i32, window: i32,
  kCache: usize, vCache: usize, logits: usize, scratch: usize,
): void {
  const d = headDim;
  const Q = H * d; // the queries' width (and attention's output's)
  const KV = kvHeads * d; // the keys' and the values'
  const group = H / kvHeads; // query heads per key/value head
  const rowBytes = <usize>C << 2;
  const headBytes = <usize>d << 2;
  const x = scratch;
  const h = x + <usize>n * rowBytes;
  const qkv = h + <usize>n * rowBytes; // [n, Q + 2 KV]: one projection's rows, or q [n, Q], k [n, KV], v [n, KV] apart
  const out = qkv + (<usize>(n * (Q + 2 * KV)) << 2);
  const ff = out + (<usize>(n * Q) << 2);
  const gate = ff + (<usize>(n * F) << 2);
  const stats = gate + (<usize>(n * F) << 2); // mean [n] and rstd [n] of the rows a norm just did
  const att = stats + (<usize>(2 * n) << 2);
  const qh = att + (<usize>((T + 3) & ~3) << 2); // one head's q [n, d], output [n, d] and lse [n], for rows > 1
  const oh = qh + <usize>n * headBytes;
  const lse = oh + <usize>n * headBytes;
  const work = (scratch + (<usize>bufferFloats(C, H, kvHeads, d, F, T, n) << 2) + 15) & ~15;
  const scale = <f32>1 / Mathf.sqrt(<f32>d);
  // RoPE's table [T, d]: per position, cos then sin of its d/2 angles.
  const rope = positions == 1 ? entry(table, SLOT_rope) : 0;
  // A window that hides no key of these rows costs nothing: attention over the whole cache.
  const windowed = window > 0 && pos + n > window;

  // x = embed[token] (+ positions[pos])
  const learned = entry(table, SLOT_positions);
  for (let r = 0; r < n; r++) {
    const te = entry(table, SLOT_embed) + <usize>load<i32>(tokens + (<usize>r << 2)) * rowBytes;
    const xr = x + <usize>r * rowBytes;
    if (!learned) {
      memory.copy(xr, te, rowBytes);
      continue;
    }
    const pe = learned + <usize>(pos + r) * rowBytes;
    for (let i = 0; i < C; i += 4) {
      const at = <usize>i << 2;
      v128.store(xr + at, f32x4.add(v128.load(te + at), v128.load(pe + at)));
    }
  }

  for (let l = 0; l < L; l++) {
    const layer = table + (<usize>(SLOT_HEADER + l * LAYER_SLOTS) << 2);
    // Every row's keys and values are needed in every layer, but past the last
    // layer's attention only the last row goes on (its logits are all that is
    // asked for): the other rows skip a quarter of the work.
    const m = l == L - 1 ? 1 : n;
    const xm = x + <usize>(n - m) * rowBytes;
    // Attention: q, k, v for the new rows (rotated with RoPE); k and v appended to the caches, then each row attends.
    normalize(norm, x, entry(layer, LAYER_norm1), entry(layer, LAYER_norm1Bias), h, stats, n, C, eps);
    // Where row r's q, k and v start, and the floats from one row to the next.
    let qAt = qkv, kAt = qkv + (<usize>Q << 2), vAt = qkv + (<usize>(Q + KV) << 2);
    let qStep = Q + 2 * KV, kvStep = Q + 2 * KV;
    if (entry(layer, LAYER_qkv)) {
      linear(h, entry(layer, LAYER_qkv), entry(layer, LAYER_qkvBias), qkv, n, C, Q + 2 * KV, work);
    } else {
      kAt = qkv + (<usize>(n * Q) << 2);
      vAt = kAt + (<usize>(n * KV) << 2);
      qStep = Q;
      kvStep = KV;
      linear(h, entry(layer, LAYER_q), entry(layer, LAYER_qBias), qAt, n, C, Q, work);
      linear(h, entry(layer, LAYER_k), entry(layer, LAYER_kBias), kAt, n, C, KV, work);
      linear(h, entry(layer, LAYER_v), entry(layer, LAYER_vBias), vAt, n, C, KV, work);
    }
    if (rope) {
      for (let r = 0; r < n; r++) {
        const cos = rope + <usize>(pos + r) * headBytes;
        const sin = cos + (headBytes >> 1);
        rotate(qAt + (<usize>(r * qStep) << 2), H, d, cos, sin);
        rotate(kAt + (<usize>(r * kvStep) << 2), kvHeads, d, cos, sin);
      }
    }
    for (let g = 0; g < kvHeads; g++) {
      const slot = <usize>((l * kvHeads + g) * T) * headBytes;
      const keys = kCache + slot;
      const values = vCache + slot;
      for (let r = 0; r < n; r++) {
        memory.copy(keys + <usize>(pos + r) * headBytes, kAt + (<usize>(r * kvStep + g * d) << 2), headBytes);
        memory.copy(values + <usize>(pos + r) * headBytes, vAt + (<usize>(r * kvStep + g * d) << 2), headBytes);
      }
      for (let head = g * group; head < (g + 1) * group; head++) {
        const column = <usize>head * headBytes;
        if (m == 1 || windowed) {
          // Row by row over the keys it sees: 0..p, or p - window + 1..p.
          for (let r = n - m; r < n; r++) {
            const p = pos + r;
            const first = window > 0 ? max(0, p - window + 1) : 0;
            const skip = <usize>first * headBytes;
            attendRow(qAt + (<usize>(r * qStep) << 2) + column, keys + skip, values + skip, p - first + 1, d, scale, att, out + (<usize>(r * Q) << 2) + column);
          }
          continue;
        }
        // Several rows: attention.ts's per-head products over the cache (causal: row r sees 0..pos + r).
        for (let r = 0; r < n; r++) memory.copy(qh + <usize>r * headBytes, qAt + (<usize>(r * qStep) << 2) + column, headBytes);
        attentionForward(qh, keys, values, oh, lse, n, pos + n, d, scale, true, 0, 1, work);
        for (let r = 0; r < n; r++) memory.copy(out + (<usize>(r * Q) << 2) + column, oh + <usize>r * headBytes, headBytes);
      }
    }
    const outm = out + (<usize>((n - m) * Q) << 2);
    linear(outm, entry(layer, LAYER_proj), entry(layer, LAYER_projBias), h, m, Q, C, work);
    addInto(xm, h, m * C);
    // Feed-forward: down(act(up(h))), or down(act(gate(h)) ∘ up(h)).
    normalize(norm, xm, entry(layer, LAYER_norm2), entry(layer, LAYER_norm2Bias), h, stats, m, C, eps);
    linear(h, entry(layer, LAYER_up), entry(layer, LAYER_upBias), ff, m, C, F, work);
    if (gated) linear(h, entry(layer, LAYER_gate), entry(layer, LAYER_gateBias), gate, m, C, F, work);
    activate(ff, gate, m * F, activation, gated);
    linear(ff, entry(layer, LAYER_down), entry(layer, LAYER_downBias), h, m, F, C, work);
    addInto(xm, h, m * C);
  }
  // The last row, through the final norm and the head.
  if (!logits) return;
  normalize(norm, x + <usize>(n - 1) * rowBytes, entry(table, SLOT_normF), entry(table, SLOT_normFBias), h, stats, 1, C, eps);
  const head = entry(table, SLOT_head);
  if (head) matvec(h, head, 0, logits, C, V);
  else rowDots(h, entry(table, SLOT_embed), logits, C, V);
}
