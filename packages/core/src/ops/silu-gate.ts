// The gate of Llama's feed-forward (SwiGLU, Shazeer 2020), element-wise:
//
//   y = silu(gate) · up,  silu(z) = z σ(z)
//   dgate = dy · up · σ(gate) (1 + gate (1 - σ(gate))),  dup = dy · silu(gate)
//
// On wasm with @tx's kernels, one pass each way (kernels/silugate.ts); on
// webgpu one dispatch each way (three tfjs kernels forward and about ten
// backward otherwise); elsewhere the tfjs ops below, differentiated by tfjs.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { jobs } from '../kernels/jobs.generated.js';
import { BUILTINS, grid, item } from '../webgpu/program.js';
import { tf } from '../tf.js';
import { bufferOf, differentiable, onWasm, onWebGPU, run, runProgram, wasmKernel, webgpuKernel } from './define.js';

/** silu(gate) · up for gate and up of one shape (Llama's down_proj input). One kernel each way on wasm and webgpu; tfjs ops elsewhere. */
export function siluGate(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  if (gate.shape.join() === up.shape.join() && onWasm(gate, up)) return fused(null, gate, up);
  if (gate.shape.join() === up.shape.join() && onWebGPU(gate, up)) return onGPU(null, gate, up);
  return tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up));
}

// The wasm binding: a pool's threads share arrays at least this long (as gelu.ts's).
const POOLED = 1 << 16;

const wasmForward = wasmKernel('TxSiluGate', ({ inputs: { gate, up }, backend }) => {
  const y = backend.makeOutput(gate.shape, 'float32');
  const n = tf.util.sizeFromShape(gate.shape);
  run(jobs.siluGate({ gate: bufferOf(backend, gate), up: bufferOf(backend, up), y: bufferOf(backend, y), n }), n >= POOLED);
  return y;
});

const wasmBackward = wasmKernel('TxSiluGateGrad', ({ inputs: { gate, up, dy }, backend }) => {
  const [dgate, dup] = [backend.makeOutput(gate.shape, 'float32'), backend.makeOutput(gate.shape, 'float32')];
  const n = tf.util.sizeFromShape(gate.shape);
  const b = (t: TensorInfo) => bufferOf(backend, t);
  run(jobs.siluGateGrad({ gate: b(gate), up: b(up), dy: b(dy), dgate: b(dgate), dup: b(dup), n }), n >= POOLED);
  return [dgate, dup];
});

const fused = differentiable(() => ({
  forward: (gate, up) => ({ value: wasmForward({ gate, up })[0], saved: [gate, up] }),
  backward: (dy, [gate, up]) => wasmBackward({ gate, up, dy }),
}));

const SIGMOID = 'fn sigmoid(z: f32) -> f32 { return 1.0 / (1.0 + exp(-z)); }';

const gpuForward = webgpuKernel('TxSiluGate', ({ inputs: { gate, up }, backend }) => {
  const n = tf.util.sizeFromShape(gate.shape);
  return runProgram(backend, {
    key: 'siluGate',
    inputs: [{ name: 'gate', tensor: gate }, { name: 'up', tensor: up }],
    outputs: [{ name: 'y', shape: gate.shape }],
    params: [{ name: 'n', type: 'u32', value: n }],
    workgroups: grid(n, 64),
    body: `${SIGMOID}
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let i = ${item(64)};
  if (i < u.n) { let g = gate[i]; y[i] = g * sigmoid(g) * up[i]; }
}`,
  });
});

// -> dgate and dup, in one dispatch.
const gpuBackward = webgpuKernel('TxSiluGateGrad', ({ inputs: { gate, up, dy }, backend }) => {
  const n = tf.util.sizeFromShape(gate.shape);
  return runProgram(backend, {
    key: 'siluGateGrad',
    inputs: [{ name: 'gate', tensor: gate }, { name: 'up', tensor: up }, { name: 'dy', tensor: dy }],
    outputs: [{ name: 'dgate', shape: gate.shape }, { name: 'dup', shape: gate.shape }],
    params: [{ name: 'n', type: 'u32', value: n }],
    workgroups: grid(n, 64),
    body: `${SIGMOID}
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let i = ${item(64)};
  if (i >= u.n) { return; }
  let g = gate[i];
  let s = sigmoid(g);
  dgate[i] = dy[i] * up[i] * s * (1.0 + g * (1.0 - s));
  dup[i] = dy[i] * g * s;
}`,
  });
});

const onGPU = differentiable(() => ({
  forward: (gate, up) => ({ value: gpuForward({ gate, up })[0], saved: [gate, up] }),
  backward: (dy, [gate, up]) => gpuBackward({ gate, up, dy }),
}));
