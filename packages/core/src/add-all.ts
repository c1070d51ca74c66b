// The sum of many tensors on every backend.
//
// Not tf.addN: on WebGPU it binds every input in one kernel, and past the
// adapter's storage-buffer limit (8 on SwiftShader: a small GPT's ~20
// gradient norms) the kernel fails to compile and the result is garbage,
// silently. A tree of pairwise adds costs n - 1 small kernels and works everywhere.
import { tf } from './tf.js';

/** xs[0] + xs[1] + ... (same shapes, or broadcastable), as a tree of pairwise adds; a scalar 0 for none. */
export function addAll(xs: readonly tf.Tensor[]): tf.Tensor {
  if (xs.length === 0) return tf.scalar(0);
  return tf.tidy(() => {
    let level = [...xs];
    while (level.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? tf.add(level[i], level[i + 1]) : level[i]);
      level = next;
    }
    return level[0] === xs[0] ? tf.clone(level[0]) : level[0];
  });
}
