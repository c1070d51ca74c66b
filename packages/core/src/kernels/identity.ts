// tfjs's Identity on the wasm backend without a copy.
//
// tfjs-wasm copies the whole tensor for Identity, which tf.grads, customGrad
// and tidy call some 200 times per GPT training step. Tensors are immutable,
// so the output can share the input's memory: the cpu backend does the same
// (one more reference to the data, freed when the last user is disposed).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

interface IdentityArgs {
  inputs: { x: TensorInfo };
  backend: { incRef(dataId: object): void };
}

/** An Identity kernel config that shares the input's data, falling back to `original` for strings. */
export function identityConfig(original: KernelConfig): KernelConfig {
  const kernelFunc = (args: IdentityArgs): TensorInfo => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return original.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { kernelName: original.kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}
