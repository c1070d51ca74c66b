// tfjs-core's gradients and chained ops (`x.reshape`), and the cpu and wasm
// backends, registered once by importing this module (tf.ts does).
//
// tfjs-core ships its gradient and chained-op registrations only as ES modules
// inside a package that Node reads as CommonJS (it has no "type": "module"),
// so Node cannot import them as they are (docs/performance.md §1). The @tensorflow/tfjs
// union bundle carries compiled copies, but installs 124 MB (layers,
// converter, data, webgl) to do it. Instead @tx/core's build bundles this file
// for Node (scripts/bundle-register.mjs writes dist/register.node.js): the
// modules inside tfjs-core that these imports reach are inlined, every
// package stays an import. Registrations go into tfjs's global registries, so
// they reach the one tfjs-core that the backends use. Browsers and bundlers
// get this file as written (dist/register.js), tree-shaken by their bundler.
import '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
