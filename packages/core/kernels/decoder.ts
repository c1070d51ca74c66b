// A GPT's (nanoGPT's architecture) decoding in wasm, n consecutive tokens of
// one sequence per call: one token (a decoding step) or many (a prompt, or a
// window recomputed past the context). What takes ~300 tfjs kernels per call
// is one walk over the weights, so a step is bound by reading them, not by
// launches. Batch 1 only: the case of a chat or a demo.
//
//   x = wte[token] + wpe[pos]
//   per layer: x += c_proj(attention(c_attn(LN1(x)))), x += mlp(LN2(x))
//   logits = LN_f(x) · head       (head = wteᵀ, [C, V], tied as nanoGPT)
//
// One row goes through matvec (weights read once, straight from tfjs's
// layout); several through the packed matmul, a block of columns at a time
// so its scratch stays small for GPT-2's widths. Weights are where tfjs keeps
// them; the caller passes their offsets in a table (header, then 12 entries
// per layer, 0 for a missing bias). Keys and values go to caches laid out
// [layer][head][position][d].
import { attentionForward, attentionScratch } from './attention';
import { gelu } from './gelu';
import { layerNorm } from './layernorm';
import { exp4, hsum, madd } from './math';
import { matmulPanels, MR, NR, panelCount } from './matmul';

// The table: header entries, then per layer.
const WTE = 0, WPE = 1, LNF_W = 2, LNF_B = 3, HEAD = 4, HEADER = 5;
const LN1_W = 0, LN1_B = 1, ATTN_W = 2, ATTN_B = 3, PROJ_W = 4, PROJ_B = 5;
const LN2_W = 6, LN2_B = 7, FC_W = 8, FC_B = 9, MLP_W = 10, MLP_B = 11, PER_LAYER = 12;

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
@inline function bufferFloats(C: i32, H: i32, T: i32, n: i32): i32 {
  const d = C / H;
  return n * (C + C + 3 * C + 4 * C + C) + 2 * n + ((T + 3) & ~3) + 2 * n * d + ((n + 3) & ~3);
}

/** Bytes of scratch that decode needs for up to `rows` tokens per call. */
export function decodeScratch(C: i32, H: i32, T: i32, rows: i32): usize {
  // The work area: the packed matmul's, or attention's for rows > 1 (never both at once).
  const packed = <usize>(BLOCK_PANELS * NR * 4 * C + MR * 4 * C + MR * NR) << 2;
  const work = rows > 1 ? max(packed, attentionScratch(rows, T, C / H)) : 0;
  return (<usize>bufferFloats(C, H, T, rows) << 2) + 16 + work;
}

/**
 * Feed n tokens (int32 at `tokens`) at positions pos..pos+n-1 (those before
 * are in the caches): append their keys and values, and write the logits [V]
 * of the token after the last at `logits` (unless 0: a prompt's earlier blocks). pos + n <= T; scratch holds
 * decodeScratch(C, H, T, n) bytes. activation: 0 exact GELU, 1 tanh GELU,
 * 2 ReLU. C and C / H must be multiples of 4.
 */
export function decode(
  table: usize, tokens: usize, n: i32, pos: i32,
  L: i32, H: i32, C: i32, V: i32, T: i32, activation: i32, eps: f32,
  kCache: usize, vCache: usize, scratch: usize, logits: usize,
): void {
  const d = C / H;
  const rowBytes = <usize>C << 2;
  const headBytes = <usize>d << 2;
  const x = scratch;
  const h = x + <usize>n * rowBytes;
  const qkv = h + <usize>n * rowBytes;
  const ff = qkv + <usize>(3 * n) * rowBytes;
  const out = ff + <usize>(4 * n) * rowBytes;
  const stats = out + <usize>n * rowBytes; // mean [n] and rstd [n] of the rows LayerNorm just did
  const att = stats + (<usize>(2 * n) << 2);
  const qh = att + (<usize>((T + 3) & ~3) << 2); // one head's q [n, d], output [n, d] and lse [n], for rows > 1
  const oh = qh + <usize>n * headBytes;
  const lse = oh + <usize>n * headBytes;
  const work = (scratch + (<usize>bufferFloats(C, H, T, n) << 2) + 15) & ~15;
  const scale = <f32>1 / Mathf.sqrt(<f32>d);

  // x = wte[token] + wpe[pos]
  for (let r = 0; r < n; r++) {
    const te = entry(table, WTE) + <usize>load<i32>(tokens + (<usize>r << 2)) * rowBytes;
    const pe = entry(table, WPE) + <usize>(pos + r) * rowBytes;
    const xr = x + <usize>r * rowBytes;
    for (let i = 0; i < C; i += 4) {
      const at = <usize>i << 2;
      v128.store(xr + at, f32x4.add(v128.load(te + at), v128.load(pe + at)));
    }
  }

  for (let l = 0; l < L; l++) {
    const layer = table + (<usize>(HEADER + l * PER_LAYER) << 2);
    // Every row's keys and values are needed in every layer, but past the last
    // layer's attention only the last row goes on (its logits are all that is
    // asked for): the other rows skip a quarter of the work.
    const m = l == L - 1 ? 1 : n;
    const xm = x + <usize>(n - m) * rowBytes;
    // Attention: q, k, v for the new rows; k and v appended to the caches, then each row attends to 0..its position.
    layerNorm(x, entry(layer, LN1_W), entry(layer, LN1_B), h, stats, stats + (<usize>n << 2), n, C, eps);
    linear(h, entry(layer, ATTN_W), entry(layer, ATTN_B), qkv, n, C, 3 * C, work);
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
      attentionForward(qh, keys, values, oh, lse, 1, n, pos + n, d, scale, true, work);
      for (let r = 0; r < n; r++) memory.copy(out + <usize>r * rowBytes + column, oh + <usize>r * headBytes, headBytes);
    }
    linear(out, entry(layer, PROJ_W), entry(layer, PROJ_B), h, m, C, C, work);
    addInto(xm, h, m * C);
    // Feed-forward.
    layerNorm(xm, entry(layer, LN2_W), entry(layer, LN2_B), h, stats, stats + (<usize>m << 2), m, C, eps);
    linear(h, entry(layer, FC_W), entry(layer, FC_B), ff, m, C, 4 * C, work);
    if (activation == 2) {
      for (let i = 0; i < 4 * m * C; i += 4) {
        const at = <usize>i << 2;
        v128.store(ff + at, f32x4.max(v128.load(ff + at), f32x4.splat(0)));
      }
    } else {
      gelu(ff, ff, 4 * m * C, activation == 1);
    }
    linear(ff, entry(layer, MLP_W), entry(layer, MLP_B), h, m, 4 * C, C, work);
    addInto(xm, h, m * C);
  }
  // The last row, through the final LayerNorm and the head.
  if (!logits) return;
  layerNorm(x + <usize>(n - 1) * rowBytes, entry(table, LNF_W), entry(table, LNF_B), h, stats, stats + 4, 1, C, eps);
  matvec(h, entry(table, HEAD), 0, logits, C, V);
}
