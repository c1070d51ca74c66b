// Browsers and bundlers: tfjs-core's ES modules register gradients and chained
// ops directly, without pulling layers, converter and data into the bundle.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
