import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, kernelsInfo, tf, type BackendName } from '@tx/core';
import { expectNoLeak, onBackend, skipWebGPU } from '@tx/core/testing';
import { AdamW, clipGradNorm, clipScale } from './adamw.js';
import { constant, cosineWithWarmup, inverseSqrt } from './schedule.js';

const ref = JSON.parse(readFileSync(join(import.meta.dirname, '../test/fixtures/reference.json'), 'utf8')).adamw;

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

describe('AdamW', () => {
  it.each(['cpu', 'wasm'] as const)('matches torch.optim.AdamW + clip_grad_norm_ over 6 steps, decaying only the matrix, on %s', async (backend) => {
    // On wasm the update is @tx/core's fused kernel (clipping included), on cpu tfjs's ops: both against PyTorch.
    const { W, b } = await onBackend(backend, async () => {
      const W = tf.variable(tf.tensor2d(ref.W0));
      const b = tf.variable(tf.tensor1d(ref.b0));
      const x = tf.tensor2d(ref.x);
      const c = tf.tensor2d(ref.c);
      const d = tf.tensor1d(ref.d);
      const opt = new AdamW([['W', W], ['b', b]], { beta1: ref.beta1, beta2: ref.beta2, eps: ref.eps, weightDecay: ref.weightDecay });
      expect(opt.decayedNames()).toEqual(['W']);
      expect(kernelsInfo().active).toBe(backend === 'wasm' && process.env.TX_KERNELS !== 'off');
      for (const [i, lr] of (ref.lrs as number[]).entries()) {
        const { grads } = tf.variableGrads(() => tf.add(tf.sum(tf.mul(tf.sin(tf.matMul(W, x)), c)), tf.sum(tf.mul(tf.mul(b, b), d))) as tf.Scalar, [W, b]);
        const norm = opt.apply({ W: grads[W.name], b: grads[b.name] }, lr, { maxNorm: ref.clip })!;
        expect((await norm.data())[0], `step ${i}`).toBeCloseTo(ref.norms[i], 5);
        tf.dispose([norm, ...Object.values(grads)]);
      }
      const out = { W: Array.from(await W.data()), b: Array.from(await b.data()) };
      opt.dispose();
      tf.dispose([W, b, x, c, d]);
      return out;
    });
    await initBackend({ prefer: 'cpu' });
    const close = (got: number[], want: number[]) => got.forEach((g, i) => expect(Math.abs(g - want[i])).toBeLessThan(1e-5));
    close(W, (ref.W as number[][]).flat());
    close(b, ref.b);
  });

  it('clipGradNorm scales the gradients to the same norm as clip_grad_norm_', async () => {
    const g = { W: tf.tensor2d([[3, 0], [0, 0]]), b: tf.tensor1d([4]) };
    const clipped = clipGradNorm(g, 1);
    expect((await clipped.norm.data())[0]).toBeCloseTo(5, 6);
    expect(Array.from(await clipped.grads.W.data())[0]).toBeCloseTo(0.6, 6);
    expect(Array.from(await clipped.grads.b.data())[0]).toBeCloseTo(0.8, 6);
    tf.dispose([clipped.norm, ...Object.values(clipped.grads), ...Object.values(g)]);
  });

  it('round-trips its state and names misfits', () => {
    const W = tf.variable(tf.ones([2, 2]));
    const opt = new AdamW([['W', W]]);
    opt.apply({ W: tf.ones([2, 2]) });
    const state = opt.stateDict();
    expect(Object.keys(state.tensors)).toEqual(['exp_avg.W', 'exp_avg_sq.W']);
    expect(state.step).toBe(1);
    const other = new AdamW([['W', W]]);
    other.loadStateDict(state);
    expect(other.step).toBe(1);
    expect(() => other.loadStateDict({ tensors: { 'exp_avg.W': tf.zeros([3]) }, step: 1 })).toThrow(
      'optimizer state does not fit: tensor "exp_avg.W": expected shape [2, 2], found [3]; missing tensor "exp_avg_sq.W"',
    );
  });

  it('names a bad maxNorm and applies nothing', () => {
    const W = tf.variable(tf.ones([2]));
    const opt = new AdamW([['W', W]]);
    const g = { W: tf.ones([2]) };
    expect(() => opt.apply(g, 1e-3, { maxNorm: -1 })).toThrow('AdamW.apply: maxNorm must be a finite number >= 0, got -1');
    expect(() => opt.apply(g, 1e-3, { maxNorm: Number.NaN })).toThrow('AdamW.apply: maxNorm must be a finite number >= 0, got NaN');
    expect(opt.step).toBe(0); // nothing applied
    opt.dispose();
  });

  it('applies updates without leaking', async () => {
    const W = tf.variable(tf.ones([3, 3]));
    const opt = new AdamW([['W', W]]);
    const g = tf.ones([3, 3]);
    await expectNoLeak(() => opt.apply({ W: g }), { warmup: 1 });
  });

  it('leaves no tensor behind once disposed: its two moments per parameter go with it', async () => {
    const W = tf.variable(tf.ones([3, 3]));
    const b = tf.variable(tf.ones([3]));
    const before = tf.memory().numTensors;
    const opt = new AdamW([['W', W], ['b', b]]);
    expect(tf.memory().numTensors).toBe(before + 4); // m and v for each
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([W, b]);
  });
});

describe('schedules', () => {
  it("cosineWithWarmup is nanoGPT's get_lr", () => {
    const lr = cosineWithWarmup({ lr: 1e-3, minLr: 1e-4, warmupIters: 100, decayIters: 2000 });
    expect(lr(0)).toBeCloseTo(1e-3 / 101, 12);
    expect(lr(99)).toBeCloseTo((1e-3 * 100) / 101, 12);
    expect(lr(100)).toBeCloseTo(1e-3, 12);
    expect(lr(1050)).toBeCloseTo(1e-4 + 0.5 * (1e-3 - 1e-4), 12); // halfway: cos(pi/2) = 0
    expect(lr(2000)).toBeCloseTo(1e-4, 12);
    expect(lr(5000)).toBe(1e-4);
  });

  it('inverseSqrt peaks at the end of warm-up (the original Transformer)', () => {
    const lr = inverseSqrt({ dModel: 512, warmupIters: 4000 });
    expect(lr(3999)).toBeCloseTo(512 ** -0.5 * 4000 ** -0.5, 12);
    expect(lr(0)).toBeCloseTo(512 ** -0.5 * 4000 ** -1.5, 12);
    expect(lr(15999)).toBeCloseTo(512 ** -0.5 * 16000 ** -0.5, 12);
  });

  it('constant is constant', () => {
    expect([0, 10, 1e6].map(constant(3e-4))).toEqual([3e-4, 3e-4, 3e-4]);
  });
});

describe('clipScale', () => {
  // 20 gradients, as a small GPT has: tf.addN of them fails to compile on WebGPU (more storage
  // buffers than SwiftShader's 8) and returned garbage silently, so clipping did nothing there.
  const grads = (): Record<string, tf.Tensor> => Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`p${i}`, tf.fill([3], i + 1)]));
  const expected = Math.sqrt(Array.from({ length: 20 }, (_, i) => 3 * (i + 1) ** 2).reduce((a, b) => a + b)); // 92.6...

  const backends: BackendName[] = skipWebGPU ? ['cpu', 'wasm'] : ['cpu', 'wasm', 'webgpu'];
  it.each(backends)('gives the global norm of 20 gradients and min(1, max / norm) on %s', async (backend) => {
    const { norm, scale } = await onBackend(backend, async () => {
      const g = grads();
      const out = clipScale(g, 1);
      const values = { norm: (await out.norm.data())[0], scale: (await out.scale.data())[0] };
      tf.dispose([...Object.values(g), out.norm, out.scale]);
      return values;
    });
    expect(norm).toBeCloseTo(expected, 3);
    expect(scale).toBeCloseTo(1 / (expected + 1e-6), 6);
  });
});
