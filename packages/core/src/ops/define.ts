// What every op file of src/ops/ is made of, written once:
//   differentiable   a function of tensors with a hand-written gradient (one
//                    tf.customGrad per distinct setting, made on first use)
//   wasmKernel       a wasm kernel under a tfjs kernel name, registered while
//                    @tx's kernels are on, and the function that runs it
//   onWasm           whether the kernels are on for these tensors: the one
//                    test each op's choice makes
//   webgpuKernel     a WGSL kernel under a tfjs kernel name for tfjs's webgpu
//   onWebGPU         backend (webgpu/program.ts runs it), and its test
// An op file holds its tfjs reference, its gradient, its wasm and WebGPU
// bindings and the one place that chooses between them (packages/core/README.md).
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { addWasmKernel, kernelsActive, loadedKernels, run } from '../kernels/install.js';
import { bufferOf, type KernelExports, type WasmBackend } from '../kernels/wasm.js';
import { tf } from '../tf.js';
import type { WebGPUBackendLike } from '../webgpu/program.js';
import { webgpuKernelsActive } from '../webgpu/switch.js';

export { run, bufferOf };
export { runProgram } from '../webgpu/program.js';

/** The kernel module's exports that size a job's scratch (kernelScratch().attentionScratch(Tq, Tk, d)), while the kernels are on. */
export function kernelScratch(): KernelExports {
  const loaded = loadedKernels();
  if (!loaded) throw new Error("@tx's wasm kernels are off: no scratch to size");
  return loaded.exports;
}

/** A forward pass and its gradient: the value, what backward needs, and one gradient per input. */
export interface WithGradient {
  forward(...inputs: tf.Tensor[]): { value: tf.Tensor; saved: tf.Tensor[] };
  backward(dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor | tf.Tensor[];
}

/**
 * A differentiable function of tensors from `make(settings)`: its forward and
 * hand-written backward. The tf.customGrad for each distinct settings (eps,
 * scale, causal...) is made once and kept.
 */
export function differentiable<S>(make: (settings: S) => WithGradient): (settings: S, ...inputs: tf.Tensor[]) => tf.Tensor {
  const made = new Map<string, (...inputs: tf.Tensor[]) => tf.Tensor>();
  return (settings, ...inputs) => {
    const key = JSON.stringify(settings) ?? '';
    let f = made.get(key);
    if (!f) {
      const { forward, backward } = make(settings);
      const body = (...args: unknown[]) => {
        const save = args.pop() as tf.GradSaveFunc;
        const { value, saved } = forward(...(args as tf.Tensor[]));
        save(saved);
        return { value, gradFunc: (dy: tf.Tensor, kept: tf.Tensor[]) => backward(dy, kept) };
      };
      f = tf.customGrad(body as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor;
      made.set(key, f);
    }
    return f(...inputs);
  };
}

/** What a wasm kernel's body gets: its input tensors by name, its settings, and the backend. */
export interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  attrs: Record<string, unknown>;
  backend: WasmBackend;
}

/**
 * A wasm kernel under the tfjs kernel name `name` (registered while @tx's
 * kernels are on), and the function that calls it through tfjs's engine, so
 * that its outputs are tensors tfjs owns.
 */
export function wasmKernel(name: string, body: (args: KernelArgs) => TensorInfo | TensorInfo[]): (inputs: Record<string, tf.Tensor>, attrs?: object) => tf.Tensor[] {
  const config: KernelConfig = { kernelName: name, backendName: 'wasm', kernelFunc: body as unknown as KernelFunc };
  addWasmKernel({ kernelName: name, make: () => config });
  return (inputs, attrs = {}) => {
    const out = tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as NamedAttrMap) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? out : [out];
  };
}

/** True when @tx's wasm kernels are on and every tensor is float32: the test that each op's choice makes. */
export function onWasm(...tensors: tf.Tensor[]): boolean {
  return kernelsActive() && tensors.every((t) => t.dtype === 'float32');
}

/** What a WebGPU kernel's body gets: its input tensors by name, its settings, and tfjs's webgpu backend. */
export interface WebGPUKernelArgs {
  inputs: Record<string, TensorInfo>;
  attrs: Record<string, unknown>;
  backend: WebGPUBackendLike;
}

/**
 * A WGSL kernel under the tfjs kernel name `name`, registered for tfjs's
 * webgpu backend (the body runs webgpu/program.ts's runProgram), and the
 * function that calls it through tfjs's engine.
 */
export function webgpuKernel(name: string, body: (args: WebGPUKernelArgs) => TensorInfo | TensorInfo[]): (inputs: Record<string, tf.Tensor>, attrs?: object) => tf.Tensor[] {
  tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: body as unknown as KernelFunc });
  return (inputs, attrs = {}) => {
    const out = tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as NamedAttrMap) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? out : [out];
  };
}

/** True on tfjs's webgpu backend with @tx's WGSL kernels on (useWebGPUKernels) and every tensor float32. */
export function onWebGPU(...tensors: tf.Tensor[]): boolean {
  return webgpuKernelsActive() && tf.getBackend() === 'webgpu' && tensors.every((t) => t.dtype === 'float32');
}
