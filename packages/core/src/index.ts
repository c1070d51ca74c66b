/**
 * `@tx/core`: backend choice, modules and parameters, safetensors, a seeded RNG. Node's file helpers are
 * in `@tx/core/node`, test helpers in `@tx/core/testing`.
 * @module index
 */
export { tf } from './tf.js';
export type { Tensor, Rank, DataType } from './tf.js';
export { initBackend } from './backend.js';
export type { AdapterInfo, BackendInfo, BackendName, BackendPreference, InitBackendOptions } from './backend.js';
export { Module, ModuleDict, ModuleList } from './module.js';
export { Dropout, dropout } from './dropout.js';
export { tidy } from './tidy.js';
export { addAll } from './add-all.js';
export type { ContextOverflow, Decoder, DecodingSession, LanguageModel, SessionOptions, StepOutput } from './generation.js';
export type { ParamOptions, StateDict } from './module.js';
export { Rng } from './rng.js';
export type { RngState } from './rng.js';
export { randomNormal, randomUniform } from './init.js';
export type { NormalOptions } from './init.js';
export {
  MAX_HEADER_BYTES,
  MAX_TENSORS,
  bfloat16ToFloat,
  checkFinite,
  halfToFloat,
  loadSafetensors,
  parseSafetensors,
  serializeSafetensors,
} from './safetensors.js';
export type { ParsedSafetensors, SafetensorsReadOptions, RawTensor } from './safetensors.js';
export { BackendError, SafetensorsError, ShapeError, StateDictError, TxError, ValueError, formatShape } from './errors.js';
export { parseJson } from './json.js';
export type { ErrorClass } from './json.js';
export { Linear, matMul2d } from './linear.js';
export { MAX_THREADS, kernelsInfo, useKernels } from './kernels/install.js';
export { countWebGPU } from './webgpu/counter.js';
export { useWebGPUKernels } from './webgpu/switch.js';
export type { WebGPUCounts } from './webgpu/counter.js';
// The ops (src/ops/, one file each: tfjs reference, gradient, wasm kernel, and the choice between them).
export * from './ops/all.generated.js';
export { FusedDecoder, unsupported } from './kernels/decoder.js';
export type { Affine, DecoderLayerWeights, DecoderLayout, DecoderWeights, SeparateQKV } from './kernels/decoder.js';
export { WebGPUDecoder, webgpuUnsupported } from './webgpu/decoder.js';
export type { KernelsInfo, UseKernelsOptions } from './kernels/install.js';
export type { KernelSimd } from './kernels/wasm.js';
export type { LinearOptions } from './linear.js';
