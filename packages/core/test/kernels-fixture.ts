// The PyTorch fixture of @tx's kernels (tooling/fixtures/kernels.py), typed once
// for the tests that check the wasm and the WebGPU bindings against it.
import { readFixture } from '../src/testing.js';
import { tf } from '../src/tf.js';

export interface MatMulCase {
  a_shape: number[];
  b_shape: number[];
  transpose_a: boolean;
  transpose_b: boolean;
  a: number[];
  b: number[];
  c_shape: number[];
  c: number[];
  dy: number[];
  da: number[];
  db: number[];
}
export interface GeluCase { approximate: boolean; x: number[]; y: number[]; dy: number[]; dx: number[] }
export interface LayerNormCase {
  n: number;
  c: number;
  bias: boolean;
  eps: number;
  x: number[];
  weight: number[];
  b: number[] | null;
  y: number[];
  dy: number[];
  dx: number[];
  dweight: number[];
  dbias: number[] | null;
}
export interface AdamWCase {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weight_decay: number;
  max_norm: number;
  init: { W: number[]; b: number[] };
  steps: { grad_W: number[]; grad_b: number[]; norm: number; W: number[]; b: number[]; m_W: number[]; v_W: number[]; m_b: number[]; v_b: number[] }[];
}
export interface AttentionCase {
  shape: [number, number, number, number, number];
  causal: boolean;
  scale: number;
  q: number[];
  k: number[];
  v: number[];
  out: number[];
  dout: number[];
  dq: number[];
  dk: number[];
  dv: number[];
}
export interface CrossEntropyCase { n: number; v: number; ignore: number | null; smoothing: number; x: number[]; targets: number[]; loss: number; dx: number[] }
export const kernelsFixture = readFixture<{
  matmul: MatMulCase[];
  gelu: GeluCase[];
  layer_norm: LayerNormCase[];
  adamw: AdamWCase;
  attention: AttentionCase[];
  cross_entropy: CrossEntropyCase[];
}>(
  new URL('./fixtures/kernels.json', import.meta.url),
);

/** The AdamW case's two parameters at their start, with zero moments: W (decayed) and b (not). */
export function adamwStart(f: AdamWCase): { param: tf.Tensor; m: tf.Tensor; v: tf.Tensor; decayed: boolean }[] {
  return [
    { param: tf.tensor2d(f.init.W, [3, 5]), m: tf.zeros([3, 5]), v: tf.zeros([3, 5]), decayed: true },
    { param: tf.tensor1d(f.init.b), m: tf.zeros([7]), v: tf.zeros([7]), decayed: false },
  ];
}

/** adamW's step settings at step t (from 1): torch.optim.AdamW's bias corrections folded in. */
export function adamwStep(f: AdamWCase, t: number) {
  return { beta1: f.beta1, beta2: f.beta2, eps: f.eps, correction2: 1 - f.beta2 ** t, stepSize: f.lr / (1 - f.beta1 ** t) };
}
