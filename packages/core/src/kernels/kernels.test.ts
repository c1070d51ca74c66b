// @tx/core's wasm kernels against PyTorch (tooling/fixtures/kernels.py) and
// against tfjs's own kernels (TX_KERNELS=off's path), outputs and gradients.
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { expectNoLeak, maxAbsDifference } from '../testing.js';
import { adamwStart, adamwStep, kernelsFixture } from '../../test/kernels-fixture.js';
import { tf } from '../tf.js';
import { kernelsInfo, useKernels } from './install.js';
import { adamW } from '../ops/adam-w.js';
import { attention, selfAttention } from '../ops/attention.js';
import { crossEntropy } from '../ops/cross-entropy.js';
import { gelu } from '../ops/gelu.js';
import { layerNorm } from '../ops/layer-norm.js';

const fixture = kernelsFixture;

const values = async (t: tf.Tensor) => Array.from(await t.data());

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});
afterAll(async () => {
  await useKernels(true);
});

describe('the kernels on wasm', () => {
  it('are on by default, with the instruction set named', () => {
    const info = kernelsInfo();
    expect(info.active).toBe(true);
    // Node 20 gets relaxed SIMD from a V8 flag set before compiling; TX_RELAXED_SIMD=off (the test script's second run) keeps SIMD128.
    expect(info.simd).toBe(process.env.TX_RELAXED_SIMD === 'off' ? 'simd128' : 'relaxed-simd');
    expect([...info.replaced].sort()).toEqual(['BatchMatMul', 'Concat', 'GatherV2', 'Identity', 'SplitV']);
    const fused = ['TxGelu', 'TxGeluGrad', 'TxLayerNorm', 'TxLayerNormGrad', 'TxAdamW', 'TxCrossEntropy', 'TxCrossEntropyGrad', 'TxAttention', 'TxAttentionGrad', 'TxAttentionPacked', 'TxAttentionPackedGrad'];
    expect([...info.fused].sort()).toEqual(expect.arrayContaining(fused.sort()));
  });

  it('turn off and on again, the ops then taking their tfjs reference with the same values', async () => {
    const x = tf.tensor1d([-3, -1, 0, 0.5, 2]);
    const on = await values(gelu(x));
    expect((await useKernels(false)).active).toBe(false);
    expect(kernelsInfo().reason).toMatch(/turned off/);
    expect(maxAbsDifference(await values(gelu(x)), on)).toBeLessThan(1e-6);
    expect((await useKernels(true)).active).toBe(true);
  });
});

describe('matMul', () => {
  it('computes a hand-checked product with each transpose', async () => {
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const b = tf.tensor2d([[5, 6, 7], [8, 9, 10]]);
    expect(await tf.matMul(a, b).array()).toEqual([[21, 24, 27], [47, 54, 61]]);
    expect(await tf.matMul(tf.transpose(a), b, true).array()).toEqual([[21, 24, 27], [47, 54, 61]]);
    expect(await tf.matMul(a, tf.transpose(b), false, true).array()).toEqual([[21, 24, 27], [47, 54, 61]]);
  });

  it.each(fixture.matmul.map((c) => [`${c.a_shape}${c.transpose_a ? 'ᵀ' : ''} x ${c.b_shape}${c.transpose_b ? 'ᵀ' : ''}`, c] as const))(
    'matches PyTorch, with gradients: %s',
    async (_, c) => {
      const a = tf.tensor(c.a, c.a_shape);
      const b = tf.tensor(c.b, c.b_shape);
      const dy = tf.tensor(c.dy, c.c_shape);
      const out = tf.matMul(a, b, c.transpose_a, c.transpose_b);
      expect(out.shape).toEqual(c.c_shape);
      expect(maxAbsDifference(await values(out), c.c)).toBeLessThan(1e-5);
      // tfjs's BatchMatMul gradient does not sum over a broadcast batch (a tfjs limitation, whatever the kernel).
      if (c.a_shape.length !== c.b_shape.length) return;
      const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, c.transpose_a, c.transpose_b), dy)))([a, b]);
      expect(maxAbsDifference(await values(da), c.da)).toBeLessThan(1e-5);
      expect(maxAbsDifference(await values(db), c.db)).toBeLessThan(1e-5);
    },
  );

  it('agrees with tfjs on the shapes of a GPT step, and on empty products', async () => {
    const shapes: [number[], number[], boolean, boolean][] = [
      [[96, 128], [128, 384], false, false],
      [[96, 128], [512, 128], false, true],
      [[96, 128], [96, 512], true, false],
      [[3, 4, 16, 8], [3, 4, 16, 8], false, true],
      [[0, 5], [5, 3], false, false],
    ];
    for (const [sa, sb, ta, tb] of shapes) {
      const a = tf.randomNormal(sa, 0, 1, 'float32', 1);
      const b = tf.randomNormal(sb, 0, 1, 'float32', 2);
      const ours = await values(tf.matMul(a, b, ta, tb));
      await useKernels(false);
      const theirs = await values(tf.matMul(a, b, ta, tb));
      await useKernels(true);
      expect(maxAbsDifference(ours, theirs), `${sa} x ${sb}`).toBeLessThan(1e-4);
    }
    // An empty inner dimension sums nothing: zeros (tfjs-wasm's own kernel returns uninitialised memory here).
    expect(await tf.matMul(tf.zeros([4, 0]), tf.zeros([0, 3])).array()).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]);
  });
});

describe('threads', () => {
  it('split large products, GELU and attention heads between threads with the same bits as one thread', async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[300, 130], [130, 70], false, false], // one product, split by column panels (70 = 8 panels + a tail)
      [[130, 300], [70, 130], true, true],
      [[12, 4, 64, 32], [12, 4, 64, 32], false, true], // attention: whole products per thread
      [[5, 200, 64], [64, 90], false, false], // a batch folded into one product
    ];
    // Over the pool's thresholds: GELU of 89,999 elements (a tail of 3), attention of 4 x 4 heads of 64 x 64 x 16, each way.
    const x = tf.randomNormal([301, 299], 0, 2, 'float32', 5);
    const qkv = tf.randomNormal([4, 64, 3 * 64], 0, 1, 'float32', 6);
    const dout = tf.randomNormal([4, 64, 64], 0, 1, 'float32', 7);
    const q = tf.randomNormal([4, 4, 64, 16], 0, 1, 'float32', 8);
    const fused = () => [
      ...[false, true].flatMap((approximate) => [gelu(x, { approximate }), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t, { approximate }), x)))(x)]),
      selfAttention(qkv, 4, { scale: 0.25, causal: true }),
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(selfAttention(t, 4, { scale: 0.25, causal: true }), dout)))(qkv),
      // The heads layout, 16 heads of 64 x 64 x 16 (over the pool's threshold), each way.
      attention(q, q, q, { scale: 0.25, causal: true }),
      ...tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(attention(a, b, c, { scale: 0.25, causal: true }), q)))([q, q, q]),
    ];
    const run = async () => [
      ...(await Promise.all(cases.map(([sa, sb, ta, tb]) => values(tf.matMul(tf.randomNormal(sa, 0, 1, 'float32', 3), tf.randomNormal(sb, 0, 1, 'float32', 4), ta, tb))))),
      ...(await Promise.all(fused().map(values))),
    ];
    expect((await useKernels(true, { threads: 1 })).threads).toBe(1); // whatever TX_THREADS says
    const one = await run();
    expect((await useKernels(true, { threads: 2 })).threads).toBe(2);
    try {
      const two = await run();
      two.forEach((t, i) => expect(t, `case ${i}`).toEqual(one[i]));
    } finally {
      expect((await useKernels(true, { threads: 1 })).threads).toBe(1);
    }
    await expect(useKernels(true, { threads: 0 })).rejects.toThrow('threads must be an integer from 1 to 64, got 0');
    await expect(useKernels(true, { threads: 65 })).rejects.toThrow('threads must be an integer from 1 to 64, got 65');
    // More than the cores gets the cores, and says what was asked.
    expect(await useKernels(true, { threads: 64 })).toMatchObject({ threads: Math.min(64, availableParallelism()), threadsAsked: 64 });
    expect(await useKernels(true, { threads: 1 })).toMatchObject({ threads: 1, threadsAsked: 1 });
    const saved = process.env.TX_THREADS;
    try {
      for (const raw of ['2000', '65', '0', '0x10', ' 4', '1e1', '2.5']) {
        process.env.TX_THREADS = raw;
        await expect(useKernels(true), raw).rejects.toThrow(`TX_THREADS must be an integer from 1 to 64, got "${raw}"`);
      }
      process.env.TX_THREADS = '400';
      await expect(useKernels(true)).rejects.toThrow('TX_THREADS must be an integer from 1 to 64, got "400"');
    } finally {
      if (saved === undefined) delete process.env.TX_THREADS;
      else process.env.TX_THREADS = saved;
    }
    expect(kernelsInfo().active).toBe(true); // a bad option changes nothing
  });
});

describe('byte-moving kernels', () => {
  it('split, concat and gather as tfjs does', async () => {
    const x = tf.tensor3d(Array.from({ length: 2 * 6 * 3 }, (_, i) => i), [2, 6, 3]);
    const ids = tf.tensor1d([5, 0, 5, 2], 'int32');
    const run = async () => ({
      split: (await Promise.all(tf.split(x, [1, 3, 2], 1).map((t) => t.array()))) as number[][][][],
      concat: await tf.concat([x, tf.mul(x, -1), tf.zeros([2, 0, 3])], 1).array(),
      int: await tf.concat([tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3], 'int32')]).array(),
      gather: (await tf.gather(tf.reshape(x, [12, 3]), ids).array()) as number[][],
    });
    const ours = await run();
    await useKernels(false);
    const theirs = await run();
    await useKernels(true);
    expect(ours).toEqual(theirs);
    expect(ours.gather[0]).toEqual([15, 16, 17]);
    expect(ours.split[0]).toEqual([[[0, 1, 2]], [[18, 19, 20]]]);
    expect(() => tf.gather(tf.reshape(x, [12, 3]), tf.tensor1d([12], 'int32'))).toThrow(/index value 12 is not in \[0, 11\]/);
  });
});

describe('fusedGelu', () => {
  it.each(fixture.gelu.map((c) => [c.approximate ? 'tanh' : 'exact', c] as const))('matches PyTorch (%s), with its gradient', async (_, c) => {
    const x = tf.tensor1d(c.x);
    const dy = tf.tensor1d(c.dy);
    expect(maxAbsDifference(await values(gelu(x, { approximate: c.approximate })), c.y)).toBeLessThan(1e-5);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t, { approximate: c.approximate }), dy)))(x);
    expect(maxAbsDifference(await values(dx), c.dx)).toBeLessThan(1e-5);
  });
});

describe('fusedLayerNorm', () => {
  it.each(fixture.layer_norm.map((c) => [`${c.n}x${c.c}${c.bias ? ' with bias' : ''}`, c] as const))('matches PyTorch (%s), with its gradients', async (_, c) => {
    const x = tf.tensor2d(c.x, [c.n, c.c]);
    const w = tf.tensor1d(c.weight);
    const b = c.b ? tf.tensor1d(c.b) : null;
    const dy = tf.tensor2d(c.dy, [c.n, c.c]);
    expect(maxAbsDifference(await values(layerNorm(x, w, b, c.eps)), c.y)).toBeLessThan(1e-5);
    const inputs = b ? [x, w, b] : [x, w];
    const grads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(layerNorm(t[0], t[1], t[2] ?? null, c.eps), dy)))(inputs);
    expect(maxAbsDifference(await values(grads[0]), c.dx)).toBeLessThan(1e-5);
    expect(maxAbsDifference(await values(grads[1]), c.dweight)).toBeLessThan(1e-5);
    if (b) expect(maxAbsDifference(await values(grads[2]), c.dbias!)).toBeLessThan(1e-5);
  });
});

describe('fusedAttention', () => {
  it.each(fixture.attention.map((c) => [`${c.shape.join('x')}${c.causal ? ', causal' : ''}`, c] as const))('matches PyTorch (B h Tq Tk d = %s), with its gradients', async (_, c) => {
    const [B, h, Tq, Tk, d] = c.shape;
    const [q, k, v] = [tf.tensor(c.q, [B, h, Tq, d]), tf.tensor(c.k, [B, h, Tk, d]), tf.tensor(c.v, [B, h, Tk, d])];
    const dout = tf.tensor(c.dout, [B, h, Tq, d]);
    const options = { scale: c.scale, causal: c.causal };
    expect(maxAbsDifference(await values(attention(q, k, v, options)), c.out)).toBeLessThan(1e-5);
    const [dq, dk, dv] = tf.grads((a: tf.Tensor, b: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(attention(a, b, e, options), dout)))([q, k, v]);
    expect(maxAbsDifference(await values(dq), c.dq)).toBeLessThan(1e-5);
    expect(maxAbsDifference(await values(dk), c.dk)).toBeLessThan(1e-5);
    expect(maxAbsDifference(await values(dv), c.dv)).toBeLessThan(1e-5);
  });

  // The packed layout of self-attention: qkv [B, T, 3C] in, [B, T, C] out, against the same PyTorch cases.
  const toRows = (t: tf.Tensor) => tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [t.shape[0]!, t.shape[2]!, -1]); // [B, h, T, d] -> [B, T, h d]
  it.each(fixture.attention.filter((c) => c.shape[2] === c.shape[3]).map((c) => [`${c.shape.join('x')}${c.causal ? ', causal' : ''}`, c] as const))(
    'fusedSelfAttention matches PyTorch from one packed [B, T, 3C] tensor (B h T T d = %s), with its gradient',
    async (_, c) => {
      const [B, h, T, , d] = c.shape;
      const heads = (x: number[]) => tf.tensor(x, [B, h, T, d]);
      const qkv = tf.concat([toRows(heads(c.q)), toRows(heads(c.k)), toRows(heads(c.v))], 2);
      const dout = toRows(heads(c.dout));
      const options = { scale: c.scale, causal: c.causal };
      expect(maxAbsDifference(await values(selfAttention(qkv, h, options)), await values(toRows(heads(c.out))))).toBeLessThan(1e-5);
      const dqkv = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(selfAttention(x, h, options), dout)))(qkv);
      const expected = tf.concat([toRows(heads(c.dq)), toRows(heads(c.dk)), toRows(heads(c.dv))], 2);
      expect(maxAbsDifference(await values(dqkv), await values(expected))).toBeLessThan(1e-5);
    },
  );

  it('take the tfjs reference where the kernels do not fit, and with the kernels off, with the same values', async () => {
    const q = tf.randomNormal([1, 2, 5, 4], 0, 1, 'float32', 1);
    const k = tf.randomNormal([1, 2, 7, 4], 0, 1, 'float32', 2);
    const v = tf.randomNormal([1, 2, 7, 4], 0, 1, 'float32', 3);
    const qkv = tf.randomNormal([2, 5, 24], 0, 1, 'float32', 4);
    const settings = { scale: 0.5, causal: true };
    const on = [await values(attention(q, k, v, settings)), await values(selfAttention(qkv, 2, settings))];
    // Values wider than the keys (dv 6, d 4) are no layout of the kernel's: the reference runs, softmax(q kᵀ / 2) v.
    const wide = tf.concat([v, tf.zeros([1, 2, 7, 2])], 3);
    const out = attention(q, k, wide, settings);
    expect(out.shape).toEqual([1, 2, 5, 6]);
    expect(maxAbsDifference(await values(tf.slice(out, [0, 0, 0, 0], [1, 2, 5, 4])), on[0])).toBeLessThan(1e-5);
    await useKernels(false);
    expect(maxAbsDifference(await values(attention(q, k, v, settings)), on[0])).toBeLessThan(1e-5);
    expect(maxAbsDifference(await values(selfAttention(qkv, 2, settings)), on[1])).toBeLessThan(1e-5);
    await useKernels(true);
  });
});

describe('crossEntropy', () => {
  it.each(fixture.cross_entropy.map((c) => [`${c.n}x${c.v}, ignore ${c.ignore}, smoothing ${c.smoothing}`, c] as const))('matches PyTorch (%s), with its gradient', async (_, c) => {
    const x = tf.tensor2d(c.x, [c.n, c.v]);
    const t = tf.tensor1d(c.targets, 'int32');
    const options = { ignoreIndex: c.ignore ?? undefined, labelSmoothing: c.smoothing };
    expect(Math.abs((await crossEntropy(x, t, options).data())[0] - c.loss)).toBeLessThan(1e-5);
    const dx = tf.grad((l: tf.Tensor) => crossEntropy(l, t, options))(x);
    expect(maxAbsDifference(await values(dx), c.dx)).toBeLessThan(1e-6);
  });

  it('names a target out of range, and is 0 with a zero gradient when every target is ignored', async () => {
    const x = tf.tensor2d([[1, 2, 3], [0, 0, 1]]);
    expect(() => crossEntropy(x, tf.tensor1d([0, 3], 'int32'))).toThrow('crossEntropy: target id 3 at row 1 is out of range [0, 3)');
    const ignored = tf.tensor1d([5, 5], 'int32');
    expect((await crossEntropy(x, ignored, { ignoreIndex: 5 }).data())[0]).toBe(0);
    expect(await values(tf.grad((l: tf.Tensor) => crossEntropy(l, ignored, { ignoreIndex: 5 }))(x))).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('adamW', () => {
  it.each([true, false])('takes the steps of clip_grad_norm_ then torch.optim.AdamW over two parameters, one decayed (kernels on: %s)', async (on) => {
    await useKernels(on);
    const f = fixture.adamw;
    let slots = adamwStart(f);
    for (const [i, s] of f.steps.entries()) {
      const t = i + 1;
      const grads = [tf.tensor2d(s.grad_W, [3, 5]), tf.tensor1d(s.grad_b)];
      const out = adamW(
        slots.map((x, j) => ({ ...x, grad: grads[j], decay: x.decayed ? 1 - f.lr * f.weight_decay : 1 })),
        adamwStep(f, t),
        f.max_norm,
      )!;
      expect((await out.norm!.data())[0], `step ${t}: the norm before clipping`).toBeCloseTo(s.norm, 5);
      slots = slots.map((x, j) => ({ ...x, param: out.params[j], m: out.m[j], v: out.v[j] }));
      for (const [j, [p, m, v]] of ([[s.W, s.m_W, s.v_W], [s.b, s.m_b, s.v_b]] as const).entries()) {
        expect(maxAbsDifference(await values(slots[j].param), p), `step ${t} param ${j}`).toBeLessThan(1e-6);
        expect(maxAbsDifference(await values(slots[j].m), m)).toBeLessThan(1e-7);
        expect(maxAbsDifference(await values(slots[j].v), v)).toBeLessThan(1e-7);
      }
    }
    await useKernels(true);
  });
});

describe('the fused ops together', () => {
  it('leave no tensors behind, forward and backward (no tidy around them: only what they return is disposed)', async () => {
    const x = tf.randomNormal([6, 8]);
    const w = tf.ones([8]);
    const targets = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
    const q = tf.randomNormal([1, 2, 6, 4]);
    const square = tf.ones([8, 8]);
    await expectNoLeak(
      () => {
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
          const h = gelu(layerNorm(tf.matMul(a, b, false, true), w, null, 1e-5));
          const att = attention(c, c, c, { scale: 0.5, causal: true });
          const rows = tf.reshape(c, [1, 6, 8]);
          const packed = selfAttention(tf.concat([rows, rows, rows], 2), 2, { scale: 0.5, causal: true });
          return tf.add(crossEntropy(h, targets), tf.add(tf.sum(att), tf.sum(packed)));
        })([x, square, q]);
        const { params, m, v, norm } = adamW([{ param: x, m: x, v: x, grad: grads[0], decay: 1 }], { beta1: 0.9, beta2: 0.99, eps: 1e-8, correction2: 0.01, stepSize: 0.1 }, 1)!;
        tf.dispose([...grads, ...params, ...m, ...v, norm!]);
      },
      { warmup: 1 },
    );
    tf.dispose([x, w, targets, q, square]);
  });
});
