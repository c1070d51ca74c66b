// One decoding step of a GPT (nanoGPT's architecture) for one token, in one
// call: what takes ~300 tfjs kernels per token (each ~10 µs of dispatch) is a
// walk over the weights, so generation is bound by reading them, not by
// launches. Batch 1 only: the case of a chat or a demo.
//
//   x = wte[token] + wpe[pos]
//   per layer: x += c_proj(attention(c_attn(LN1(x)))), x += mlp(LN2(x))
//   logits = LN_f(x) · head       (head = wteᵀ, [C, V], tied as nanoGPT)
//
// Weights are where tfjs keeps them; the caller passes their offsets in a
// table (header, then 12 entries per layer, 0 for a missing bias). Keys and
// values go to caches laid out [layer][head][position][d].
import { gelu } from './gelu';
import { layerNorm } from './layernorm';
import { hsum, madd } from './math';

// The table: header entries, then per layer.
const WTE = 0, WPE = 1, LNF_W = 2, LNF_B = 3, HEAD = 4, HEADER = 5;
const LN1_W = 0, LN1_B = 1, ATTN_W = 2, ATTN_B = 3, PROJ_W = 4, PROJ_B = 5;
const LN2_W = 6, LN2_B = 7, FC_W = 8, FC_B = 9, MLP_W = 10, MLP_B = 11, PER_LAYER = 12;

// @ts-ignore: decorator
@inline function entry(table: usize, i: i32): usize {
  return <usize>load<u32>(table + (<usize>i << 2));
}


/** y[N] = x[K] · W[K, N] (+ b[N] when b != 0), W row-major; 16 columns at a time in registers. */
export function matvec(x: usize, w: usize, b: usize, y: usize, K: i32, N: i32): void {
  const row = <usize>N << 2;
  let j = 0;
  for (; j + 16 <= N; j += 16) {
    const col = <usize>j << 2;
    let a0 = b ? v128.load(b + col) : f32x4.splat(0);
    let a1 = b ? v128.load(b + col, 16) : f32x4.splat(0);
    let a2 = b ? v128.load(b + col, 32) : f32x4.splat(0);
    let a3 = b ? v128.load(b + col, 48) : f32x4.splat(0);
    let p = w + col;
    for (let k = 0; k < K; k++) {
      const xk = v128.load32_splat(x + (<usize>k << 2));
      a0 = madd(xk, v128.load(p), a0);
      a1 = madd(xk, v128.load(p, 16), a1);
      a2 = madd(xk, v128.load(p, 32), a2);
      a3 = madd(xk, v128.load(p, 48), a3);
      p += row;
    }
    v128.store(y + col, a0);
    v128.store(y + col, a1, 16);
    v128.store(y + col, a2, 32);
    v128.store(y + col, a3, 48);
  }
  for (; j + 4 <= N; j += 4) {
    const col = <usize>j << 2;
    let a = b ? v128.load(b + col) : f32x4.splat(0);
    let p = w + col;
    for (let k = 0; k < K; k++) {
      a = madd(v128.load32_splat(x + (<usize>k << 2)), v128.load(p), a);
      p += row;
    }
    v128.store(y + col, a);
  }
  for (; j < N; j++) {
    const col = <usize>j << 2;
    let a: f32 = b ? load<f32>(b + col) : 0;
    let p = w + col;
    for (let k = 0; k < K; k++) {
      a += load<f32>(x + (<usize>k << 2)) * load<f32>(p);
      p += row;
    }
    store<f32>(y + col, a);
  }
}

// @ts-ignore: decorator
@inline function addInto(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const at = <usize>i << 2;
    v128.store(x + at, f32x4.add(v128.load(x + at), v128.load(y + at)));
  }
}

/** Bytes of scratch that decodeStep needs. */
export function decodeScratch(C: i32, T: i32): usize {
  return <usize>(C + C + 3 * C + T + 4 * C + C + 8) << 2;
}

/**
 * Feed `token` at position `pos` (0-based; positions before it are in the caches):
 * append its keys and values, and write the next token's logits [V] at `logits`.
 * activation: 0 exact GELU, 1 tanh GELU, 2 ReLU. C must be a multiple of 4.
 */
export function decodeStep(
  table: usize, token: i32, pos: i32,
  L: i32, H: i32, C: i32, V: i32, T: i32, activation: i32, eps: f32,
  kCache: usize, vCache: usize, scratch: usize, logits: usize,
): void {
  const d = C / H;
  const x = scratch;
  const h = x + (<usize>C << 2);
  const qkv = h + (<usize>C << 2);
  const att = qkv + (<usize>(3 * C) << 2);
  const ff = att + (<usize>T << 2);
  const out = ff + (<usize>(4 * C) << 2);
  const stats = out + (<usize>C << 2); // mean and rstd of the row LayerNorm just did
  const rowBytes = <usize>C << 2;
  const scale = <f32>1 / Mathf.sqrt(<f32>d);

  // x = wte[token] + wpe[pos]
  const te = entry(table, WTE) + <usize>token * rowBytes;
  const pe = entry(table, WPE) + <usize>pos * rowBytes;
  for (let i = 0; i < C; i += 4) {
    const at = <usize>i << 2;
    v128.store(x + at, f32x4.add(v128.load(te + at), v128.load(pe + at)));
  }

  for (let l = 0; l < L; l++) {
    const layer = table + (<usize>(HEADER + l * PER_LAYER) << 2);
    // Attention: q, k, v for this token; k and v appended to the caches.
    layerNorm(x, entry(layer, LN1_W), entry(layer, LN1_B), h, stats, stats + 4, 1, C, eps);
    matvec(h, entry(layer, ATTN_W), entry(layer, ATTN_B), qkv, C, 3 * C);
    for (let head = 0; head < H; head++) {
      const slot = <usize>((l * H + head) * T) * (<usize>d << 2);
      const keys = kCache + slot;
      const values = vCache + slot;
      const q = qkv + (<usize>(head * d) << 2);
      memory.copy(keys + <usize>pos * (<usize>d << 2), q + rowBytes, <usize>d << 2);
      memory.copy(values + <usize>pos * (<usize>d << 2), q + 2 * rowBytes, <usize>d << 2);
      // softmax(q · kᵀ · scale) over positions 0..pos
      let max: f32 = -Infinity;
      for (let t = 0; t <= pos; t++) {
        const k = keys + <usize>t * (<usize>d << 2);
        let s = f32x4.splat(0);
        for (let i = 0; i < d; i += 4) s = madd(v128.load(q + (<usize>i << 2)), v128.load(k + (<usize>i << 2)), s);
        const score = hsum(s) * scale;
        store<f32>(att + (<usize>t << 2), score);
        if (score > max) max = score;
      }
      let sum: f32 = 0;
      for (let t = 0; t <= pos; t++) {
        const e = Mathf.exp(load<f32>(att + (<usize>t << 2)) - max);
        store<f32>(att + (<usize>t << 2), e);
        sum += e;
      }
      // out_head = Σ_t p_t v_t
      const o = out + (<usize>(head * d) << 2);
      for (let i = 0; i < d; i += 4) v128.store(o + (<usize>i << 2), f32x4.splat(0));
      for (let t = 0; t <= pos; t++) {
        const p = f32x4.splat(load<f32>(att + (<usize>t << 2)) / sum);
        const v = values + <usize>t * (<usize>d << 2);
        for (let i = 0; i < d; i += 4) {
          const at = <usize>i << 2;
          v128.store(o + at, madd(p, v128.load(v + at), v128.load(o + at)));
        }
      }
    }
    matvec(out, entry(layer, PROJ_W), entry(layer, PROJ_B), h, C, C);
    addInto(x, h, C);
    // Feed-forward.
    layerNorm(x, entry(layer, LN2_W), entry(layer, LN2_B), h, stats, stats + 4, 1, C, eps);
    matvec(h, entry(layer, FC_W), entry(layer, FC_B), ff, C, 4 * C);
    if (activation == 2) {
      for (let i = 0; i < 4 * C; i += 4) {
        const at = <usize>i << 2;
        v128.store(ff + at, f32x4.max(v128.load(ff + at), f32x4.splat(0)));
      }
    } else {
      gelu(ff, ff, 4 * C, activation == 1);
    }
    matvec(ff, entry(layer, MLP_W), entry(layer, MLP_B), h, 4 * C, C);
    addInto(x, h, C);
  }
  layerNorm(x, entry(table, LNF_W), entry(table, LNF_B), h, stats, stats + 4, 1, C, eps);
  matvec(h, entry(table, HEAD), 0, logits, C, V);
}
