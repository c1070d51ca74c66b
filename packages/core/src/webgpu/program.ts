// One WGSL compute shader run on tfjs's webgpu backend, with any number of
// outputs: what each op's WebGPU binding (src/ops/*.ts, webgpuKernel in
// define.ts) runs.
//
// tfjs's own runWebGPUProgram writes exactly one output, so a LayerNorm
// forward (y, mean, rstd) or an AdamW update (p, m, v) would take a dispatch
// per output, or a packed output and a copy per slice. This records one
// dispatch into the backend's own command encoder and compute pass instead,
// as runWebGPUProgram does (same submit batching, same buffer ownership), so
// our kernels and tfjs's interleave in order and nothing is submitted early.
//
// The shader's bindings are declared here from `inputs`, `inouts`, `outputs`
// and `params` (in that order: inputs read-only, inouts and outputs
// read_write, then one uniform struct `u` of the params); the body refers to
// them by name. Every binding must be used by the body ('auto' layouts drop
// unused ones). An inout is an existing tensor the shader writes in place (a
// KV cache that a decoder owns); no other binding may alias it.
// SwiftShader, like many adapters, allows 8 storage buffers per stage.
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';

/** The slice of tfjs's WebGPUBackend a program needs (its fields are not public API: tfjs-backend-webgpu 4.22). */
export interface WebGPUBackendLike {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  pipelineCache: Record<string, GPUComputePipeline | Promise<GPUComputePipeline>>;
  makeTensorInfo(shape: number[], dtype: DataType, values?: Float32Array | Int32Array): TensorInfo;
  disposeData(dataId: object): boolean;
  uploadToGPU(dataId: object): void;
  tensorToBinding(t: TensorInfo): GPUBindingResource;
  makeUniforms(u: Array<{ type: string; data: number[] }>): GPUBindingResource;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** A scalar setting of a shader, a field of its uniform struct `u`. */
export type Param = { name: string; type: 'f32' | 'i32' | 'u32'; value: number };

/** A shader run: its body (WGSL after the generated bindings), named tensors in and out, settings, and the workgroup grid. */
export interface Program {
  /** Names the pipeline in the cache: the same key must mean the same WGSL. */
  key: string;
  /** The WGSL after the bindings: helper functions and `@compute @workgroup_size(...) fn main(...)`. */
  /** Or a function that writes it: called only when the pipeline is not cached yet, so a per-token dispatch does not rebuild its WGSL. */
  body: string | (() => string);
  inputs: Array<{ name: string; tensor: TensorInfo }>;
  /** Existing tensors bound read_write and written in place (after the inputs); none may alias another binding. */
  inouts?: Array<{ name: string; tensor: TensorInfo }>;
  outputs: Array<{ name: string; shape: number[]; dtype?: DataType }>;
  params?: Param[];
  workgroups: [number, number?, number?];
}

/** Storage buffers one shader may bind on many adapters, SwiftShader included. */
export const MAX_STORAGE_BUFFERS = 8;

/** Record one dispatch of `program` on the webgpu backend; returns its outputs, owned by the backend as tfjs's kernels' are. */
export function runProgram(backend: WebGPUBackendLike, program: Program): TensorInfo[] {
  const { inputs, inouts = [], outputs, params = [] } = program;
  const buffers = inputs.length + inouts.length + outputs.length;
  if (buffers > MAX_STORAGE_BUFFERS) {
    throw new Error(`${program.key}: ${buffers} storage buffers, more than the ${MAX_STORAGE_BUFFERS} many adapters allow`);
  }
  const outs = outputs.map((o) => backend.makeTensorInfo(o.shape, o.dtype ?? 'float32'));
  const all = [...inputs.map((i) => i.tensor), ...inouts.map((i) => i.tensor), ...outs];
  for (const t of all) backend.uploadToGPU(t.dataId);
  const pipeline = pipelineFor(backend, program);
  const entries: GPUBindGroupEntry[] = all.map((t, i) => ({ binding: i, resource: backend.tensorToBinding(t) }));
  if (params.length > 0) {
    const fields = params.map((p) => ({ type: p.type === 'f32' ? 'float32' : p.type === 'i32' ? 'int32' : 'uint32', data: [p.value] }));
    entries.push({ binding: all.length, resource: backend.makeUniforms(fields) });
  }
  for (const t of all) backend.commandQueueOwnedIds.add(t.dataId);
  const bindGroup = backend.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  backend.ensureCommandEncoderReady();
  backend.computePassEncoder ??= backend.commandEncoder!.beginComputePass({});
  backend.computePassEncoder.setPipeline(pipeline);
  backend.computePassEncoder.setBindGroup(0, bindGroup);
  const [x, y = 1, z = 1] = program.workgroups;
  backend.computePassEncoder.dispatchWorkgroups(x, y, z);
  backend.dispatchCountInPass++;
  if (tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') <= backend.dispatchCountInPass) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
  return outs;
}

function pipelineFor(backend: WebGPUBackendLike, program: Program): GPUComputePipeline {
  const key = `tx:${program.key}`;
  let pipeline = backend.pipelineCache[key];
  if (!pipeline) {
    const code = header(program) + (typeof program.body === 'string' ? program.body : program.body());
    // A WGSL error would otherwise pass silently (the dispatch is dropped, its outputs stay as they were).
    backend.device.pushErrorScope('validation');
    pipeline = backend.device.createComputePipeline({ layout: 'auto', compute: { module: backend.device.createShaderModule({ code, label: key }), entryPoint: 'main' } });
    void backend.device.popErrorScope().then((error) => error && console.error(`@tx's WebGPU kernel ${key} does not compile: ${error.message}`));
    backend.pipelineCache[key] = pipeline;
  }
  return pipeline as GPUComputePipeline;
}

/** The bindings: inputs (read), inouts and outputs (read_write), then the uniform struct `u` of the params. */
function header({ inputs, inouts = [], outputs, params = [] }: Program): string {
  const type = (dtype: DataType | undefined) => (dtype === 'int32' || dtype === 'bool' ? 'i32' : 'f32');
  const written = [...inouts.map((i) => ({ name: i.name, dtype: i.tensor.dtype })), ...outputs];
  const lines = [
    ...inputs.map((i, n) => `@group(0) @binding(${n}) var<storage, read> ${i.name}: array<${type(i.tensor.dtype)}>;`),
    ...written.map((o, n) => `@group(0) @binding(${inputs.length + n}) var<storage, read_write> ${o.name}: array<${type(o.dtype)}>;`),
  ];
  if (params.length > 0) {
    lines.push(`struct Params { ${params.map((p) => `${p.name}: ${p.type},`).join(' ')} };`);
    lines.push(`@group(0) @binding(${inputs.length + written.length}) var<uniform> u: Params;`);
  }
  return `${lines.join('\n')}\n`;
}

/** Workgroups for n items of `size` threads each, as an [x, y] grid within the 65,535 per dimension WebGPU allows; a shader's item is (wid.y · nwg.x + wid.x) · size + lid.x. */
export function grid(n: number, size: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / size));
  const x = Math.min(groups, 32768);
  return [x, Math.ceil(groups / x)];
}

/** The WGSL of an item index over grid(n, size)'s workgroups, from `main`'s BUILTINS. */
export const item = (size: number) => `((wid.y * nwg.x + wid.x) * ${size}u + lid.x)`;

/** `main`'s builtins: workgroup id, workgroup count, and the thread within its workgroup. */
export const BUILTINS = '@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>';

/** WGSL: whether an f32 is finite, from its bits (a compiler may assume comparisons with NaN away). */
export const IS_FINITE = 'fn isFinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }';

/** WGSL: rowSum(v, t), the sum of v over a workgroup of 64 threads (t: the thread; each takes every 64th column of a row), as every thread's result; a tree through workgroup memory. */
export const ROW_SUM = `var<workgroup> red: array<f32, 64>;
fn rowSum(v: f32, t: u32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var w = 32u; w > 0u; w = w >> 1u) {
    if (t < w) { red[t] += red[t + w]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}`;
