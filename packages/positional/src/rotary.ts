// Rotary position embedding (RoPE, Su et al. 2021), applied to queries and keys.
//
// Each pair of channels (c, c + d/2) of a head is rotated by the angle
// pos * theta_c, theta_c = base^(-2c/d): the "rotate half" layout of GPT-NeoX
// and Hugging Face's LLaMA. A rotation keeps norms, and since R(a)ᵀR(b) = R(b - a),
// q·k after rotation depends only on the relative position of query and key.
//
// With a KV cache, the new tokens sit after the cached ones: pass the cache
// length as `offset` so each is rotated by its absolute position.
import { ShapeError, formatShape, rope, tf } from '@tx/core';

/** How a RotaryEmbedding is built: table length and frequency base. */
export interface RotaryEmbeddingOptions {
  /** Longest position + 1 that the precomputed tables cover (grown on demand). Default 2048. */
  maxLen?: number;
  /** The frequency base (default 10000). */
  base?: number;
}

/** Rotary position embedding (RoPE, Su et al. 2021): queries and keys rotated by their positions, so that q·k depends on their distance only. */
export class RotaryEmbedding {
  // The tables stay in JavaScript, [maxLen, d] row-major: apply uploads only
  // its T rows. A tf.slice of a table tensor read the whole table back on wasm:
  // one decoding token took 10.5 ms at 4,096 rows and 66 ms at 32,768; now
  // 0.08-0.14 ms at any length.
  private cos = new Float32Array(0);
  private sin = new Float32Array(0); // sign folded in for rotate-half
  private tableLen = 0;
  readonly base: number;

  constructor(
    /** Channels per head; must be even. */
    readonly headDim: number,
    { maxLen = 2048, base = 10000 }: RotaryEmbeddingOptions = {},
  ) {
    if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) {
      throw new ShapeError(`RotaryEmbedding: headDim must be an even integer >= 2, found ${headDim}`);
    }
    this.base = base;
    this.ensure(maxLen);
  }

  /** The angle of channel pair c at position pos, in float64: pos * base^(-2c/d). */
  angle(pos: number, c: number): number {
    return rotaryAngle(pos, c, this.headDim, this.base);
  }

  /**
   * Rotate x by position: x [..., T, d] (e.g. [B, h, T, d]); token t sits at position offset + t.
   * Returns a new tensor of the same shape.
   */
  apply(x: tf.Tensor, offset = 0): tf.Tensor {
    const d = this.headDim;
    if (x.rank < 2 || x.shape[x.rank - 1] !== d) {
      throw new ShapeError(`RotaryEmbedding(headDim ${d}): x must be [..., T, ${d}], found shape ${formatShape(x.shape)}`);
    }
    if (!Number.isInteger(offset) || offset < 0) throw new ShapeError(`RotaryEmbedding: offset must be a non-negative integer, found ${offset}`);
    const T = x.shape[x.rank - 2];
    this.ensure(offset + T);
    return tf.tidy(() => {
      // x · cos + rotateHalf(x) · sin, the table's sin carrying the minus sign of -x2:
      // one wasm kernel each way (core's rope), tfjs's split, concat and multiplies elsewhere.
      return rope(x, tableRows(this.cos, offset, T, d), tableRows(this.sin, offset, T, d));
    });
  }

  /** Free the tables. */
  dispose(): void {
    this.cos = this.sin = new Float32Array(0);
    this.tableLen = 0;
  }

  private ensure(len: number): void {
    if (len <= this.tableLen) return;
    const size = Math.max(len, this.tableLen * 2);
    const d = this.headDim;
    const half = d / 2;
    const cos = new Float32Array(size * d);
    const sin = new Float32Array(size * d);
    for (let pos = 0; pos < size; pos++) {
      for (let c = 0; c < half; c++) {
        const a = this.angle(pos, c);
        cos[pos * d + c] = cos[pos * d + c + half] = Math.cos(a);
        sin[pos * d + c] = -Math.sin(a);
        sin[pos * d + c + half] = Math.sin(a);
      }
    }
    this.cos = cos;
    this.sin = sin;
    this.tableLen = size;
  }
}

/**
 * Rows [offset, offset + rows) of a [*, d] row-major table, as a [rows, d]
 * tensor: a copy of those rows only, whatever the table's length (RoPE's and
 * xPos's tables are never written after they are built).
 */
export function tableRows(table: Float32Array, offset: number, rows: number, d: number): tf.Tensor2D {
  return tf.tensor2d(table.subarray(offset * d, (offset + rows) * d), [rows, d]);
}

/** The angle of channel pair c (channels c and c + d/2) at position pos, in float64: pos · base^(-2c/d). */
export function rotaryAngle(pos: number, c: number, headDim: number, base = 10000): number {
  return pos * Math.pow(base, (-2 * c) / headDim);
}

/** One vector rotated as RotaryEmbedding.apply rotates it, in float64 plain numbers (to explain and to test). */
export function rotateVector(x: readonly number[], pos: number, base = 10000): number[] {
  const half = x.length / 2;
  const out = x.slice();
  for (let c = 0; c < half; c++) {
    const a = rotaryAngle(pos, c, x.length, base);
    out[c] = x[c] * Math.cos(a) - x[c + half] * Math.sin(a);
    out[c + half] = x[c + half] * Math.cos(a) + x[c] * Math.sin(a);
  }
  return out;
}
