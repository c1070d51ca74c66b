// Tensors filled from an Rng in JavaScript, so that the same seed gives the
// same weights on cpu, wasm and webgpu.
import type { Rng } from './rng.js';
import { tf } from './tf.js';

/** The mean and standard deviation of randomNormal's samples. */
export interface NormalOptions {
  mean?: number;
  std?: number;
}

/** A float32 tensor of N(mean, std²) samples drawn from `rng`. */
export function randomNormal(shape: number[], rng: Rng, { mean = 0, std = 1 }: NormalOptions = {}): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = mean + std * rng.normal();
  return tf.tensor(values, shape, 'float32');
}

/** A float32 tensor of U[low, high) samples drawn from `rng`. */
export function randomUniform(shape: number[], rng: Rng, low = 0, high = 1): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = low + (high - low) * rng.random();
  return tf.tensor(values, shape, 'float32');
}
