// xPos (Sun et al. 2022, "A Length-Extrapolatable Transformer"): rotary
// position embedding with an exponential decay, applied to queries and keys.
//
// Channel pair c = (2c, 2c + 1) of a head turns by pos * theta_c, theta_c =
// base^(-2c/d), as in RoPE; then queries are multiplied by s and keys by 1/s:
//
//   zeta_c   = (2c/d + gamma) / (1 + gamma)              gamma = 0.4, so 0 < zeta_c < 1
//   s(pos,c) = zeta_c ^ ((pos - center) / scaleBase)     scaleBase = 512
//
// For a query at n and a key at m, q·k = sum_c zeta_c^((n - m)/scaleBase) (RoPE's
// pair-c term): it depends only on n - m, and decays for keys far in the past
// (n - m > 0). `center` cancels out of q·k; it only keeps both scales near 1.
//
// This matches lucidrains/rotary-embedding-torch (rotary_embedding_torch.py,
// commit 0e44baf), RotaryEmbedding(d, use_xpos=True).rotate_queries_and_keys(q, k),
// exactly with center = floor(T / 2); and torchscale's XPOS
// (torchscale/component/xpos_relative_position.py, commit 9d968a2) with
// center = ceil(Tk / 2). Both pair channels "every two", not "rotate half" as
// our RotaryEmbedding does. tooling/fixtures/xpos.py is the PyTorch reference.
//
// With a KV cache, the new tokens sit after the cached ones: pass the cache
// length as `offset`, and keep one center for the whole sequence.
import { ShapeError, ValueError, formatShape, tf } from '@tx/core';
import { rotaryAngle, tableRows } from './rotary.js';

/** How an XPosEmbedding is built: table length, frequency base, gamma, scale base and centre. */
export interface XPosEmbeddingOptions {
  /** Longest position + 1 that the precomputed tables cover (grown on demand). Default 2048. */
  maxLen?: number;
  /** The rotation frequency base (default 10000). */
  base?: number;
  /** gamma in zeta_c = (2c/d + gamma) / (1 + gamma); must be > 0 (default 0.4). */
  gamma?: number;
  /** The decay's length scale (default 512). */
  scaleBase?: number;
  /** The position whose scale is 1 (default 0). q·k does not depend on it. */
  center?: number;
}

// [maxLen, d] row-major, kept in JavaScript (apply uploads the rows it needs:
// see rotary.ts), sin with the sign of rotate-every-two.
type Tables = { cos: Float32Array; sin: Float32Array };

/** xPos (Sun et al. 2022): RoPE whose q·k also decays exponentially with the distance. */
export class XPosEmbedding {
  readonly base: number;
  readonly gamma: number;
  readonly scaleBase: number;
  readonly center: number;
  private queries: Tables | null = null; // cos·s, sin·s
  private keys: Tables | null = null; // cos/s, sin/s
  private tableLen = 0;

  constructor(
    /** Channels per head; must be even. */
    readonly headDim: number,
    { maxLen = 2048, base = 10000, gamma = 0.4, scaleBase = 512, center = 0 }: XPosEmbeddingOptions = {},
  ) {
    if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) {
      throw new ShapeError(`XPosEmbedding: headDim must be an even integer >= 2, found ${headDim}`);
    }
    const positive = { base, gamma, scaleBase };
    for (const [name, value] of Object.entries(positive)) {
      if (!(Number.isFinite(value) && value > 0)) throw new ValueError(`XPosEmbedding: ${name} must be a finite number > 0, found ${value}`);
    }
    if (!Number.isFinite(center)) throw new ValueError(`XPosEmbedding: center must be a finite number, found ${center}`);
    this.base = base;
    this.gamma = gamma;
    this.scaleBase = scaleBase;
    this.center = center;
    this.ensure(maxLen);
  }

  /** The angle of channel pair c at position pos, in float64: pos * base^(-2c/d). */
  angle(pos: number, c: number): number {
    return rotaryAngle(pos, c, this.headDim, this.base);
  }

  /** zeta_c = (2c/d + gamma) / (1 + gamma), the decay of pair c per scaleBase positions. */
  zeta(c: number): number {
    return ((2 * c) / this.headDim + this.gamma) / (1 + this.gamma);
  }

  /** The query scale of pair c at position pos, in float64: zeta_c^((pos - center)/scaleBase); keys get 1/scale. */
  scale(pos: number, c: number): number {
    return Math.pow(this.zeta(c), (pos - this.center) / this.scaleBase);
  }

  /** Rotate and scale queries q [..., T, d] (e.g. [B, h, T, d]); token t sits at position offset + t. */
  rotateQueries(q: tf.Tensor, offset = 0): tf.Tensor {
    return this.apply(q, offset, 'queries');
  }

  /** Rotate and inversely scale keys k [..., T, d]; token t sits at position offset + t. */
  rotateKeys(k: tf.Tensor, offset = 0): tf.Tensor {
    return this.apply(k, offset, 'keys');
  }

  /** Free the tables. */
  dispose(): void {
    this.queries = this.keys = null;
    this.tableLen = 0;
  }

  private apply(x: tf.Tensor, offset: number, role: 'queries' | 'keys'): tf.Tensor {
    const d = this.headDim;
    if (x.rank < 2 || x.shape[x.rank - 1] !== d) {
      throw new ShapeError(`XPosEmbedding(headDim ${d}): ${role} must be [..., T, ${d}], found shape ${formatShape(x.shape)}`);
    }
    if (!Number.isInteger(offset) || offset < 0) throw new ShapeError(`XPosEmbedding: offset must be a non-negative integer, found ${offset}`);
    const T = x.shape[x.rank - 2];
    this.ensure(offset + T);
    const table = role === 'queries' ? this.queries! : this.keys!;
    return tf.tidy(() => {
      const cos = tableRows(table.cos, offset, T, d);
      const sin = tableRows(table.sin, offset, T, d);
      // rotateEveryTwo(x) = (-x1, x0, -x3, x2, ...): swap each pair; the table's sin carries the minus signs.
      const pairs = tf.reshape(x, [...x.shape.slice(0, -1), d / 2, 2]);
      const swapped = tf.reshape(tf.reverse(pairs, -1), x.shape);
      return tf.add(tf.mul(x, cos), tf.mul(swapped, sin));
    });
  }

  private ensure(len: number): void {
    if (len <= this.tableLen) return;
    const size = Math.max(len, this.tableLen * 2);
    const d = this.headDim;
    const q = { cos: new Float32Array(size * d), sin: new Float32Array(size * d) };
    const k = { cos: new Float32Array(size * d), sin: new Float32Array(size * d) };
    for (let pos = 0; pos < size; pos++) {
      for (let c = 0; c < d / 2; c++) {
        const a = this.angle(pos, c);
        const s = this.scale(pos, c);
        const [i, j] = [pos * d + 2 * c, pos * d + 2 * c + 1];
        q.cos[i] = q.cos[j] = Math.cos(a) * s;
        k.cos[i] = k.cos[j] = Math.cos(a) / s;
        q.sin[i] = -Math.sin(a) * s;
        q.sin[j] = Math.sin(a) * s;
        k.sin[i] = -Math.sin(a) / s;
        k.sin[j] = Math.sin(a) / s;
      }
    }
    this.queries = q;
    this.keys = k;
    this.tableLen = size;
  }
}
