// The WebGPU parity page: the cases of packages/core/test/webgpu-parity.ts
// (the same list the Node test runs through Dawn) with the built @tx/core and
// the PyTorch fixture bundled in. Never part of the site: the browser test
// (../webgpu-parity.test.ts) builds it into a folder of its own and serves it.
// The test drives it through globalThis.parity; body[data-ready] says it is loaded.
// tfjs's webgpu backend registers itself on import; initBackend then starts it.
import '@tensorflow/tfjs-backend-webgpu';
import * as core from '@tx/core';
import { maxAbsDifference } from '@tx/core/testing';
import fixtureText from '../../../../packages/core/test/fixtures/kernels.json?raw';
import type { KernelsFixture } from '../../../../packages/core/test/kernels-fixture.js';
import { webgpuParityCases, type ParityOutcome } from '../../../../packages/core/test/webgpu-parity.js';

const cases = webgpuParityCases({ ...core, maxAbsDifference }, JSON.parse(fixtureText) as KernelsFixture);

/** What the browser test calls. */
const parity = {
  /** Start tfjs's webgpu backend (SwiftShader allowed): the backend tfjs is on, and the adapter. */
  async start() {
    const info = await core.initBackend({ prefer: 'webgpu', allowSoftwareWebGPU: true });
    return { backend: core.tf.getBackend(), adapter: info.adapter };
  },
  /** The cases' names, in order. */
  names: () => cases.map((c) => c.name),
  /** Run case i: its dispatches and differences, as plain data. */
  run: (i: number): Promise<ParityOutcome> => cases[i].run(),
};
(globalThis as unknown as { parity: typeof parity }).parity = parity;
document.body.dataset.ready = 'true';
