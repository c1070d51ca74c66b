// The WebGPU decoder's contract on Dawn (SwiftShader in Node): when create()
// gives one, what webgpuUnsupported refuses, and a hand-computed case. Its
// logits against real models (GPT-2's layout, the Llama family's) are checked
// in @tx/blocks (src/decoding/webgpu.test.ts), which can build them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { ValueError } from '../errors.js';
import type { DecoderLayout, DecoderWeights } from '../kernels/decoder.js';
import { maxAbsDifference, skipWebGPU } from '../testing.js';
import { tf } from '../tf.js';
import { countWebGPU } from './counter.js';
import { WebGPUDecoder, webgpuUnsupported } from './decoder.js';
import { useWebGPUKernels } from './switch.js';

const layout: DecoderLayout = { layers: 1, heads: 2, kvHeads: 2, dModel: 4, dFF: 8, vocab: 300, context: 4, norm: 'layerNorm', normEps: 1e-5, activation: 'gelu', gated: false, positions: 'learned' };
/** 300 rows: the tied head's 256 rows per workgroup, and a second workgroup of 44. */
const EMBED = [[1, 2, 3, 4], [0, -1, 0, 1], [2, 0, -2, 0.5], ...Array.from({ length: 297 }, (_, j) => [Math.sin(j), Math.cos(j), (j % 7) - 3, 0.5])];
const POSITIONS = [[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 0.5, 0]];

/**
 * One layer whose output projections are zero: the residual stream stays
 * embed[id] + positions[p], and the logits are LayerNorm(x) · embedᵀ (the
 * head tied), whatever q, k, v and the feed-forward compute.
 */
function weights(): DecoderWeights {
  const ones = tf.ones([4]);
  const seeded = (shape: number[]) => tf.tensor(Array.from({ length: shape[0]! * shape[1]! }, (_, i) => Math.sin(i + 1)), shape);
  return {
    embed: tf.tensor2d(EMBED),
    positions: tf.tensor2d(POSITIONS),
    normF: [ones, tf.zeros([4])],
    head: null,
    layers: [{ norm1: [ones, null], qkv: [seeded([4, 12]), tf.zeros([12])], proj: [tf.zeros([4, 4]), null], norm2: [ones, null], up: [seeded([4, 8]), null], gate: null, down: [tf.zeros([8, 4]), null] }],
  };
}

/** LayerNorm(embed[id] + positions[p]) · embedᵀ, in float64. */
function expected(id: number, p: number): number[] {
  const x = EMBED[id]!.map((e, c) => e + POSITIONS[p]![c]!);
  const mean = x.reduce((a, b) => a + b) / 4;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
  const normed = x.map((v) => (v - mean) / Math.sqrt(variance + 1e-5));
  return EMBED.map((row) => row.reduce((a, e, c) => a + e * normed[c]!, 0));
}

describe('webgpuUnsupported', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('names what the decoder cannot run, and nothing for GPT-2 and Llama layouts', () => {
    expect(webgpuUnsupported(layout)).toBeNull();
    expect(webgpuUnsupported({ ...layout, norm: 'rmsNorm', positions: 'rope', kvHeads: 1, headDim: 6, window: 2, gated: true, activation: 'silu' })).toBeNull();
    expect(webgpuUnsupported({ ...layout, heads: 3 })).toBe('a head size of dModel / heads = 4 / 3');
    expect(webgpuUnsupported({ ...layout, headDim: 512 })).toBe('a head size of 512 (at most 256)');
    expect(webgpuUnsupported({ ...layout, positions: 'rope', headDim: 3 })).toBe('RoPE on an odd head size (3)');
    expect(webgpuUnsupported({ ...layout, kvHeads: 3 })).toBe('2 query heads in groups of 3 key/value heads');
    expect(webgpuUnsupported({ ...layout, window: 0 })).toBe('a window of 0');
    expect(webgpuUnsupported(layout, { ...weights(), positions: null })).toBe('learned positions without their table');
  });
});

describe.skipIf(skipWebGPU)('WebGPUDecoder on webgpu', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'webgpu', allowSoftwareWebGPU: true });
  }, 120_000);
  afterAll(() => useWebGPUKernels(true));

  it('gives the hand-computed logits of the tied head, one position after another, in 2 + 5 dispatches and one read-back', async () => {
    const decoder = WebGPUDecoder.create(layout, weights())!;
    expect(decoder.usable()).toBe(true);
    for (const [p, id] of [0, 2, 1, 2].entries()) {
      const { result, counts } = await countWebGPU(() => decoder.feed([id]));
      expect(maxAbsDifference(result.logits, expected(id, p)), `position ${p}`).toBeLessThan(1e-5);
      expect(counts.dispatches).toBe(7);
      expect(counts.readBacks).toBe(1);
    }
    decoder.position = 0;
    expect(maxAbsDifference((await decoder.feed([0, 1, 2])).logits, expected(2, 2))).toBeLessThan(1e-5);
    decoder.dispose();
  }, 120_000);

  it('is not made with the WGSL kernels off, and stops being usable when they are turned off', async () => {
    const decoder = WebGPUDecoder.create(layout, weights())!;
    useWebGPUKernels(false);
    try {
      expect(WebGPUDecoder.create(layout, weights())).toBeNull();
      expect(decoder.usable()).toBe(false);
      await expect(decoder.feed([1])).rejects.toThrow(ValueError);
      expect(decoder.position).toBe(0);
    } finally {
      useWebGPUKernels(true);
    }
    expect(decoder.usable()).toBe(true);
    decoder.dispose();
    expect(decoder.usable()).toBe(false);
  }, 120_000);

  it('is not made off webgpu', async () => {
    await initBackend({ prefer: 'cpu' });
    expect(WebGPUDecoder.create(layout, weights())).toBeNull();
  });
});
