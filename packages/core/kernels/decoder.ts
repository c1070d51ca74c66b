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
//   logits = normF(x) · head      (head absent: tied, the embedding's rows)
//
// Implemented: LayerNorm, learned positions, GELU (exact or tanh) or ReLU, as
// many key/value heads as query heads of dModel / heads each, the whole
// context, q, k and v in one projection (GPT-2). The description's other
// settings (RMSNorm, RoPE and its base, a SiLU gate, fewer KV heads, another
// head size, a sliding window, q, k and v apart) are refused by the
// TypeScript side until written here.
//
// One row goes through matvec (weights read once, straight from tfjs's
// layout); several through the packed matmul, a block of columns at a time
// so its scratch stays small for GPT-2's widths. Weights are where tfjs keeps
// them; the caller passes their offsets in a table whose slots
// kernels/table.mjs declares (0 for an absent bias). Keys and values go to
// caches laid out [layer][head][position][d].
import { attentionForward, attentionScratch } from './attention';
import { gelu } from './gelu';
import { layerNorm } from './layernorm';
import { exp4, hsum, madd } from './math';
import { matmulPanels, MR, NR, panelCount } from './matmul';
import {
  LAYER_down, LAYER_downBias, LAYER_norm1, LAYER_norm1Bias, LAYER_norm2, LAYER_norm2Bias, LAYER_proj, LAYER_projBias,
  LAYER_qkv, LAYER_qkvBias, LAYER_SLOTS, LAYER_up, LAYER_upBias, SLOT_embed, SLOT_head, SLOT_HEADER, SLOT_normF, SLOT_normFBias, SLOT_positions,
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
 * o[d] = softmax(q · kᵀ · scale) · v over cached positions 0..last of one head
 * (keys and values [T, d]); att holds the scores.
 */
function attendRow(q: usize, keys: usize, values: usize, last: i32, d: i32, scale: f32, att: usize, o: usize): void {
  const rowBytes = <usize>d << 2;
  let max: f32 = -Infinity;
  for (let t = 0; t <= last; t++) {
    const k = keys + <usize>t * rowBytes;
    let s = f32x4.splat(0);
    for (let i = 0; i < d; i += 4) s = madd(v128.load(q + (<usize>i << 2)), v128.load(k + (<usize>i << 2)), s);
    const score = hsum(s) * scale;
    store<f32>(att + (<usize>t << 2), score);
    if (score > max) max = score;
  }
  // Exponentials four at a time; the scores past `last` in the padded lanes are not summed.
  const max4 = f32x4.splat(max);
  let sum: f32 = 0;
  for (let t = 0; t <= last; t += 4) {
    const at = att + (<usize>t << 2);
    const e = exp4(f32x4.sub(v128.load(at), max4));
    v128.store(at, e);
  }
  for (let t = 0; t <= last; t++) sum += load<f32>(att + (<usize>t << 2));
  const inv = <f32>1 / sum;
  for (let i = 0; i < d; i += 4) v128.store(o + (<usize>i << 2), f32x4.splat(0));
  for (let t = 0; t <= last; t++) {
    const p = f32x4.splat(load<f32>(att + (<usize>t << 2)) * inv);
    const v = values + <usize>t * rowBytes;
    for (let i = 0; i < d; i += 4) {
      const at = <usize>i << 2;
      v128.store(o + at, madd(p, v128.load(v + at), v128.load(o + at)));
    }
  }
}

/** Floats of the buffers for n rows before the shared work area: x, h, qkv, ff, out, stats, scores, and a head's q, output and lse. */
// @ts-ignore: decorator
@inline function bufferFloats(C: i32, H: i32, F: i32, T: i32, n: i32): i32 {
  const d = C / H;
  return n * (C + C + 3 * C + F + C) + 2 * n + ((T + 3) & ~3) + 2 * n * d + ((n + 3) & ~3);
}

/** Bytes of scratch that decode needs for up to `rows` tokens per call (dModel C, H heads, dFF F, context T). */
export function decodeScratch(C: i32, H: i32, F: i32, T: i32, rows: i32): usize {
  // The work area: the packed matmul's, or attention's for rows > 1 (never both at once).
  const K = max(C, F);
  const packed = <usize>(BLOCK_PANELS * NR * K + MR * K + MR * NR) << 2;
  const work = rows > 1 ? max(packed, attentionScratch(rows, T, C / H)) : 0;
  return (<usize>bufferFloats(C, H, F, T, rows) << 2) + 16 + work;
}

/**
 * Feed n tokens (int32 at `tokens`) at positions pos..pos+n-1 (those before
 * are in the caches): append their keys and values, and write the logits [V]
 * of the token after the last at `logits` (unless 0: a prompt's earlier blocks). pos + n <= T; scratch holds
 * decodeScratch(C, H, F, T, n) bytes. The layer description (kernels/table.mjs):
 * activation 0 exact GELU, 1 tanh GELU, 2 ReLU; norm, gated, positions,
 * ropeTheta, kvHeads, headDim and window as the TypeScript side allows (see
 * above). C and C / H must be multiples of 4.
 */
export function decode(
  table: usize, tokens: usize, n: i32, pos: i32,
  L: i32, H: i32, kvHeads: i32, C: i32, F: i32, V: i32, T: i32,
  norm: i32, activation: i32, gated: bool, positions: i32, eps: f32, ropeTheta: f32, headDim: i32, window: i32,
  kCache: usize, vCache: usize, logits: usize, scratch: usize,
): void {
  const d = C / H;
  const rowBytes = <usize>C << 2;
  const headBytes = <usize>d << 2;
  const x = scratch;
  const h = x + <usize>n * rowBytes;
  const qkv = h + <usize>n * rowBytes;
  const ff = qkv + <usize>(3 * n) * rowBytes;
  const out = ff + (<usize>(n * F) << 2);
  const stats = out + <usize>n * rowBytes; // mean [n] and rstd [n] of the rows LayerNorm just did
  const att = stats + (<usize>(2 * n) << 2);
  const qh = att + (<usize>((T + 3) & ~3) << 2); // one head's q [n, d], output [n, d] and lse [n], for rows > 1
  const oh = qh + <usize>n * headBytes;
  const lse = oh + <usize>n * headBytes;
  const work = (scratch + (<usize>bufferFloats(C, H, F, T, n) << 2) + 15) & ~15;
  const scale = <f32>1 / Mathf.sqrt(<f32>d);

  // x = embed[token] + positions[pos]
  for (let r = 0; r < n; r++) {
    const te = entry(table, SLOT_embed) + <usize>load<i32>(tokens + (<usize>r << 2)) * rowBytes;
    const pe = entry(table, SLOT_positions) + <usize>(pos + r) * rowBytes;
    const xr = x + <usize>r * rowBytes;
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
    // Attention: q, k, v for the new rows; k and v appended to the caches, then each row attends to 0..its position.
    layerNorm(x, entry(layer, LAYER_norm1), entry(layer, LAYER_norm1Bias), h, stats, stats + (<usize>n << 2), n, C, eps);
    linear(h, entry(layer, LAYER_qkv), entry(layer, LAYER_qkvBias), qkv, n, C, 3 * C, work);
    for (let head = 0; head < H; head++) {
      const slot = <usize>((l * H + head) * T) * headBytes;
      const keys = kCache + slot;
      const values = vCache + slot;
      for (let r = 0; r < n; r++) {
        const q = qkv + <usize>(3 * r) * rowBytes + <usize>head * headBytes;
        memory.copy(keys + <usize>(pos + r) * headBytes, q + rowBytes, headBytes);
        memory.copy(values + <usize>(pos + r) * headBytes, q + 2 * rowBytes, headBytes);
      }
      const column = <usize>head * headBytes;
      if (m == 1) {
        attendRow(qkv + <usize>(3 * (n - 1)) * rowBytes + column, keys, values, pos + n - 1, d, scale, att, out + column);
        continue;
      }
      // Several rows: attention.ts's per-head products over the cache (causal: row r sees 0..pos + r).
      for (let r = 0; r < n; r++) memory.copy(qh + <usize>r * headBytes, qkv + <usize>(3 * r) * rowBytes + column, headBytes);
      attentionForward(qh, keys, values, oh, lse, n, pos + n, d, scale, true, 0, 1, work);
      for (let r = 0; r < n; r++) memory.copy(out + <usize>r * rowBytes + column, oh + <usize>r * headBytes, headBytes);
    }
    linear(out, entry(layer, LAYER_proj), entry(layer, LAYER_projBias), h, m, C, C, work);
    addInto(xm, h, m * C);
    // Feed-forward.
    layerNorm(xm, entry(layer, LAYER_norm2), entry(layer, LAYER_norm2Bias), h, stats, stats + (<usize>m << 2), m, C, eps);
    linear(h, entry(layer, LAYER_up), entry(layer, LAYER_upBias), ff, m, C, F, work);
    if (activation == 2) {
      for (let i = 0; i < m * F; i += 4) {
        const at = <usize>i << 2;
        v128.store(ff + at, f32x4.max(v128.load(ff + at), f32x4.splat(0)));
      }
    } else {
      gelu(ff, ff, activation == 1, 0, m * F);
    }
    linear(ff, entry(layer, LAYER_down), entry(layer, LAYER_downBias), h, m, F, C, work);
    addInto(xm, h, m * C);
  }
  // The last row, through the final LayerNorm and the head.
  if (!logits) return;
  layerNorm(x + <usize>(n - 1) * rowBytes, entry(table, SLOT_normF), entry(table, SLOT_normFBias), h, stats, stats + 4, 1, C, eps);
  const head = entry(table, SLOT_head);
  if (head) matvec(h, head, 0, logits, C, V);
  else rowDots(h, entry(table, SLOT_embed), logits, C, V);
}
