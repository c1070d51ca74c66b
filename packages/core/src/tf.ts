// The one place @tx imports TensorFlow.js from.
//
// tfjs-core alone registers no gradients and no chained ops (`x.reshape`) in
// Node, because its Node build leaves out the side-effect modules that do so.
// `#tfjs-register` resolves per platform (see package.json "imports"): in Node
// to the @tensorflow/tfjs bundle, which registers them into the same tfjs-core
// instance; in browsers to tfjs-core's own ES modules. Every @tx package
// imports `tf` from here, so users never need an extra import.
import '#tfjs-register';
import * as tf from '@tensorflow/tfjs-core';

export { tf };
export type { Tensor, Rank, DataType } from '@tensorflow/tfjs-core';
