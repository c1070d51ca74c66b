import { tf } from './tf.js';

/** tf.tidy for functions returning plain objects of tensors (typed as what fn returns). */
export function tidy<T>(fn: () => T): T {
  return tf.tidy(fn as () => tf.TensorContainer) as T;
}
