// Node: the @tensorflow/tfjs bundle carries tfjs-core's gradients and chained
// ops compiled for CommonJS and registers them into the shared tfjs-core.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
