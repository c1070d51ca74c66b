// The PyTorch fixture of @tx's kernels (tooling/fixtures/kernels.py), typed once
// for the tests that check the wasm and the WebGPU bindings against it. The
// browser page of apps/demo/test/webgpu-parity.test.ts reads the JSON itself
// (this module reads it from disk) and takes only the types.
import { readFixture } from '../src/testing.js';
import { tf } from '../src/tf.js';
import { adamwSlots } from './adamw-case.js';

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
/** The whole fixture: its cases per kernel. */
export interface KernelsFixture {
  matmul: MatMulCase[];
  gelu: GeluCase[];
  layer_norm: LayerNormCase[];
  adamw: AdamWCase;
  attention: AttentionCase[];
  cross_entropy: CrossEntropyCase[];
}
export const kernelsFixture = readFixture<KernelsFixture>(new URL('./fixtures/kernels.json', import.meta.url));
export { adamwStep } from './adamw-case.js';

/** The AdamW case's two parameters at their start, with zero moments: W (decayed) and b (not). */
export const adamwStart = (f: AdamWCase) => adamwSlots(tf, f);
