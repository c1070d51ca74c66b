// @tx/core's wasm kernels: one module, built by scripts/build-kernels.mjs.
// Everything here works on tfjs-wasm's memory (imported as env.memory) at
// byte offsets the caller gives; nothing allocates.
export { matmul, matmulScratch } from './matmul';
export { gelu, geluGrad } from './gelu';
export { layerNorm, layerNormGrad } from './layernorm';
export { adamW, sumOfSquares } from './adamw';
export { decode, decodeScratch } from './decoder';
export { work } from './threads';
export { attentionBackward, attentionForward, attentionPackedBackward, attentionPackedForward, attentionScratch } from './attention';
export { crossEntropy, crossEntropyGrad } from './crossentropy';
