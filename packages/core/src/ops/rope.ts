// Rotary position embedding (RoPE, Su et al. 2021) in Hugging Face's
// rotate-half layout, given its tables for the rows' positions:
//
//   y = x · cos + rotateHalf(x) · sin,   rotateHalf([x1, x2]) = [x2, x1]
//
// sin carries rotate-half's minus (-sin on the first half). The gradient is
// the transpose: dx = dy · cos + rotateHalf(dy · sin), RoPE's inverse rotation.
// On wasm with @tx's kernels, one pass each way (kernels/rope.ts); elsewhere
// the tfjs ops below (split, concat, two multiplies and an add), differentiated
// by tfjs. The tables are constants: their gradients are zeros.
import { jobs } from '../kernels/jobs.generated.js';
import { ShapeError, formatShape } from '../errors.js';
import { tf } from '../tf.js';
import { bufferOf, differentiable, onWasm, run, wasmKernel } from './define.js';

/** RoPE of x [..., T, d] with tables cos and sin [T, d] (sin negated on its first half): x · cos + rotateHalf(x) · sin. One kernel each way on wasm; tfjs ops elsewhere. */
export function rope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  const [T, d] = x.shape.slice(-2);
  const table = `[${T}, ${d}]`;
  if (x.rank < 2 || d % 2 !== 0 || cos.shape.join() !== `${T},${d}` || sin.shape.join() !== `${T},${d}`) {
    throw new ShapeError(`rope: x must be [..., T, d] with d even and cos, sin ${table}, found x ${formatShape(x.shape)}, cos ${formatShape(cos.shape)}, sin ${formatShape(sin.shape)}`);
  }
  if (onWasm(x, cos, sin)) return tf.reshape(fused(null, tf.reshape(x, [-1, d]), cos, sin), x.shape);
  return tf.tidy(() => {
    const [x1, x2] = tf.split(x, 2, -1);
    return tf.add(tf.mul(x, cos), tf.mul(tf.concat([x2, x1], -1), sin));
  });
}

// The wasm binding: x [rows, d], whose row r sits at table row r % T. A pool's threads share at least this many elements.
const POOLED = 1 << 16;

const kernel = wasmKernel('TxRope', ({ inputs: { x, cos, sin }, attrs, backend }) => {
  const [rows, d] = x.shape;
  const y = backend.makeOutput([rows, d], 'float32');
  const b = (t: typeof x) => bufferOf(backend, t);
  run(jobs.rope({ x: b(x), cos: b(cos), sin: b(sin), y: b(y), rows, T: cos.shape[0], d, transpose: attrs.transpose as boolean }), rows * d >= POOLED);
  return y;
});

const fused = differentiable(() => ({
  forward: (x, cos, sin) => ({ value: kernel({ x, cos, sin }, { transpose: false })[0], saved: [cos, sin] }),
  backward: (dy, [cos, sin]) => [kernel({ x: dy, cos, sin }, { transpose: true })[0], tf.zerosLike(cos), tf.zerosLike(sin)],
}));
