// @tx's WGSL kernels on tfjs's webgpu backend (Dawn on SwiftShader in Node)
// against PyTorch (tooling/fixtures/kernels.py, the wasm kernels' fixture) to
// 1e-4, outputs and gradients, and the dispatches each takes, counted at the
// WebGPU API. Shapes stay small: SwiftShader is a CPU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { adamW } from '../ops/adam-w.js';
import { attention, selfAttention } from '../ops/attention.js';
import { crossEntropy } from '../ops/cross-entropy.js';
import { gelu } from '../ops/gelu.js';
import { layerNorm } from '../ops/layer-norm.js';
import { matMul } from '../ops/mat-mul.js';
import { rmsNorm } from '../ops/rms-norm.js';
import { siluGate } from '../ops/silu-gate.js';
import { maxAbsDifference, skipWebGPU } from '../testing.js';
import { adamwStart, adamwStep, kernelsFixture, type AttentionCase } from '../../test/kernels-fixture.js';
import { tf } from '../tf.js';
import { countWebGPU } from './counter.js';
import { useWebGPUKernels } from './switch.js';

const fixture = kernelsFixture;
const values = async (t: tf.Tensor) => Array.from(await t.data());
const TOLERANCE = 1e-4;

describe.skipIf(skipWebGPU)('the WGSL kernels on webgpu', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'webgpu', allowSoftwareWebGPU: true });
  }, 120_000);
  afterAll(() => useWebGPUKernels(true));

  it('adamW takes the steps of clip_grad_norm_ then torch.optim.AdamW in 3 dispatches for 2 parameters (1 norm, 1 each)', async () => {
    const f = fixture.adamw;
    let slots = adamwStart(f);
    for (const [i, s] of f.steps.entries()) {
      const t = i + 1;
      const grads = [tf.tensor2d(s.grad_W, [3, 5]), tf.tensor1d(s.grad_b)];
      const { result: out, counts } = await countWebGPU(() =>
        adamW(
          slots.map((x, j) => ({ ...x, grad: grads[j], decay: x.decayed ? 1 - f.lr * f.weight_decay : 1 })),
          adamwStep(f, t),
          f.max_norm,
        ),
      );
      expect(counts.byKernel).toEqual({ TxAdamWUpdate: 2, TxSumOfSquares: 1 });
      expect(counts.readBacks).toBe(0);
      expect(Math.abs((await out.norm!.data())[0] - s.norm), `step ${t}: the norm before clipping`).toBeLessThan(TOLERANCE);
      slots = slots.map((x, j) => ({ ...x, param: out.params[j], m: out.m[j], v: out.v[j] }));
      for (const [j, [p, m, v]] of ([[s.W, s.m_W, s.v_W], [s.b, s.m_b, s.v_b]] as const).entries()) {
        expect(maxAbsDifference(await values(slots[j].param), p), `step ${t} param ${j}`).toBeLessThan(TOLERANCE);
        expect(maxAbsDifference(await values(slots[j].m), m)).toBeLessThan(TOLERANCE);
        expect(maxAbsDifference(await values(slots[j].v), v)).toBeLessThan(TOLERANCE);
      }
    }
  }, 120_000);

  it('adamW chains the norm over groups of 7 gradients, and skips the step (values unchanged) when the norm is not finite', async () => {
    const n = 17;
    const slots = Array.from({ length: n }, (_, i) => ({ param: tf.fill([3], i), m: tf.zeros([3]), v: tf.zeros([3]), grad: tf.fill([3], i === 5 ? 2 : 0), decay: 1 }));
    const step = { beta1: 0.9, beta2: 0.99, eps: 1e-8, correction2: 0.01, stepSize: 1 }; // t = 1, lr 0.1: stepSize = lr / (1 - beta1)
    const { result, counts } = await countWebGPU(() => adamW(slots, step, 1));
    expect(counts.byKernel).toEqual({ TxAdamWUpdate: 17, TxSumOfSquares: 3 }); // 7 + 6 + 4 gradients
    expect((await result.norm!.data())[0]).toBeCloseTo(Math.sqrt(12), 5);
    // Parameter 5 moves by lr (m̂ / √v̂ = 1 at the first step), against its gradient's sign; the others keep their value.
    for (const p of await values(result.params[5])) expect(p).toBeCloseTo(4.9, 5);
    expect(await values(result.params[4])).toEqual([4, 4, 4]);
    slots[2].grad = tf.tensor1d([NaN, 0, 0]);
    const skipped = adamW(slots, step, 1);
    expect(await values(skipped.params[5])).toEqual([5, 5, 5]);
    expect(await values(skipped.m[5])).toEqual([0, 0, 0]);
  }, 120_000);

  it.each(fixture.gelu.map((c) => [c.approximate ? 'tanh' : 'exact', c] as const))('gelu matches PyTorch (%s) in one dispatch each way', async (_, c) => {
    const x = tf.tensor1d(c.x);
    const dy = tf.tensor1d(c.dy);
    const { result: y, counts } = await countWebGPU(() => gelu(x, { approximate: c.approximate }));
    expect(counts.byKernel).toEqual({ TxGelu: 1 });
    expect(maxAbsDifference(await values(y), c.y)).toBeLessThan(TOLERANCE);
    const { result: dx, counts: back } = await countWebGPU(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t, { approximate: c.approximate }), dy)))(x));
    expect(back.byKernel.TxGeluGrad).toBe(1);
    expect(maxAbsDifference(await values(dx), c.dx)).toBeLessThan(TOLERANCE);
  }, 120_000);

  it.each(fixture.layer_norm.map((c) => [`${c.n}x${c.c}${c.bias ? ' with bias' : ''}`, c] as const))('layerNorm matches PyTorch (%s) in one dispatch each way', async (_, c) => {
    const x = tf.tensor2d(c.x, [c.n, c.c]);
    const w = tf.tensor1d(c.weight);
    const b = c.b ? tf.tensor1d(c.b) : null;
    const dy = tf.tensor2d(c.dy, [c.n, c.c]);
    const { result: y, counts } = await countWebGPU(() => layerNorm(x, w, b, c.eps));
    expect(counts.byKernel).toEqual({ TxLayerNorm: 1 });
    expect(maxAbsDifference(await values(y), c.y)).toBeLessThan(TOLERANCE);
    const inputs = b ? [x, w, b] : [x, w];
    const { result: grads, counts: back } = await countWebGPU(() => tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(layerNorm(t[0], t[1], t[2] ?? null, c.eps), dy)))(inputs));
    expect(back.byKernel.TxLayerNormGrad).toBe(1);
    expect(maxAbsDifference(await values(grads[0]), c.dx)).toBeLessThan(TOLERANCE);
    expect(maxAbsDifference(await values(grads[1]), c.dweight)).toBeLessThan(TOLERANCE);
    if (b) expect(maxAbsDifference(await values(grads[2]), c.dbias!)).toBeLessThan(TOLERANCE);
  }, 120_000);

  it.each(fixture.cross_entropy.map((c) => [`${c.n}x${c.v}, ignore ${c.ignore}, smoothing ${c.smoothing}`, c] as const))('crossEntropy matches PyTorch (%s) in one dispatch each way', async (_, c) => {
    const x = tf.tensor2d(c.x, [c.n, c.v]);
    const t = tf.tensor1d(c.targets, 'int32');
    const options = { ignoreIndex: c.ignore ?? undefined, labelSmoothing: c.smoothing };
    const { result: loss, counts } = await countWebGPU(() => crossEntropy(x, t, options));
    expect(counts.byKernel).toEqual({ TxCrossEntropy: 1 });
    expect(Math.abs((await loss.data())[0] - c.loss)).toBeLessThan(TOLERANCE);
    const { result: dx, counts: back } = await countWebGPU(() => tf.grad((l: tf.Tensor) => crossEntropy(l, t, options))(x));
    expect(back.byKernel.TxCrossEntropyGrad).toBe(1);
    expect(maxAbsDifference(await values(dx), c.dx)).toBeLessThan(TOLERANCE);
  }, 120_000);

  it('crossEntropy is NaN for a target out of range (checking would read the ids back), 0 when every row is ignored', async () => {
    const x = tf.tensor2d([[1, 2, 3], [0, 0, 1]]);
    expect((await crossEntropy(x, tf.tensor1d([0, 3], 'int32')).data())[0]).toBeNaN();
    const ignored = tf.tensor1d([5, 5], 'int32');
    expect((await crossEntropy(x, ignored, { ignoreIndex: 5 }).data())[0]).toBe(0);
    expect(await values(tf.grad((l: tf.Tensor) => crossEntropy(l, ignored, { ignoreIndex: 5 }))(x))).toEqual([0, 0, 0, 0, 0, 0]);
  }, 120_000);

  it('with the kernels off, each op takes its tfjs reference on webgpu, with the same values', async () => {
    const x = tf.randomNormal([6, 40], 0, 1, 'float32', 1);
    const w = tf.randomNormal([40], 1, 0.1, 'float32', 2);
    const t = tf.tensor1d([0, 5, 39, 7, 7, 1], 'int32');
    const all = async () => [await values(gelu(x)), await values(layerNorm(x, w, null, 1e-5)), await values(crossEntropy(x, t, { labelSmoothing: 0.1 }))];
    const on = await all();
    useWebGPUKernels(false);
    const { result: off, counts } = await countWebGPU(all);
    useWebGPUKernels(true);
    expect(Object.keys(counts.byKernel).some((k) => k.startsWith('Tx'))).toBe(false);
    on.forEach((v, i) => expect(maxAbsDifference(v, off[i])).toBeLessThan(TOLERANCE));
  }, 120_000);

  const caseName = (c: AttentionCase) => `${c.shape.join('x')}${c.causal ? ', causal' : ''}`;
  it.each(fixture.attention.map((c) => [caseName(c), c] as const))('attention matches PyTorch (B h Tq Tk d = %s): 1 dispatch forward, 2 backward', async (_, c) => {
    const [B, h, Tq, Tk, d] = c.shape;
    const [q, k, v] = [tf.tensor(c.q, [B, h, Tq, d]), tf.tensor(c.k, [B, h, Tk, d]), tf.tensor(c.v, [B, h, Tk, d])];
    const dout = tf.tensor(c.dout, [B, h, Tq, d]);
    const options = { scale: c.scale, causal: c.causal };
    const { result: out, counts } = await countWebGPU(() => attention(q, k, v, options));
    expect(counts.byKernel).toEqual({ TxAttention: 1 });
    expect(maxAbsDifference(await values(out), c.out)).toBeLessThan(TOLERANCE);
    const { result: grads, counts: back } = await countWebGPU(() => tf.grads((a: tf.Tensor, b: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(attention(a, b, e, options), dout)))([q, k, v]));
    expect(back.byKernel.TxAttentionGrad).toBe(2);
    for (const [i, want] of [c.dq, c.dk, c.dv].entries()) expect(maxAbsDifference(await values(grads[i]), want), ['dq', 'dk', 'dv'][i]).toBeLessThan(TOLERANCE);
  }, 120_000);

  const toRows = (t: tf.Tensor) => tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [t.shape[0]!, t.shape[2]!, -1]); // [B, h, T, d] -> [B, T, h d]
  it.each(fixture.attention.filter((c) => c.shape[2] === c.shape[3]).map((c) => [caseName(c), c] as const))(
    'selfAttention matches PyTorch from one packed [B, T, 3C] tensor (B h T T d = %s): 1 dispatch each way',
    async (_, c) => {
      const [B, h, T, , d] = c.shape;
      const heads = (x: number[]) => tf.tensor(x, [B, h, T, d]);
      const qkv = tf.concat([toRows(heads(c.q)), toRows(heads(c.k)), toRows(heads(c.v))], 2);
      const dout = toRows(heads(c.dout));
      const options = { scale: c.scale, causal: c.causal };
      const { result: out, counts } = await countWebGPU(() => selfAttention(qkv, h, options));
      expect(counts.byKernel).toEqual({ TxAttentionPacked: 1 });
      expect(maxAbsDifference(await values(out), await values(toRows(heads(c.out))))).toBeLessThan(TOLERANCE);
      const { result: dqkv, counts: back } = await countWebGPU(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(selfAttention(x, h, options), dout)))(qkv));
      expect(back.byKernel.TxAttentionPackedGrad).toBe(1);
      const expected = tf.concat([toRows(heads(c.dq)), toRows(heads(c.dk)), toRows(heads(c.dv))], 2);
      expect(maxAbsDifference(await values(dqkv), await values(expected))).toBeLessThan(TOLERANCE);
    },
    120_000,
  );

  it.each([false, true])('matMul adds a bias in the product\'s own dispatch (transposeB %s), with its gradients', async (transposeB) => {
    const a = tf.tensor2d([[1, 2, 3], [-1, 0, 2]]);
    const b = transposeB ? tf.tensor2d([[1, 0, 2], [0.5, -1, 1]]) : tf.tensor2d([[1, 0.5], [0, -1], [2, 1]]);
    const bias = tf.tensor1d([10, -10]);
    const dy = tf.tensor2d([[1, 2], [3, -1]]);
    const { result: y, counts } = await countWebGPU(() => matMul(a, b, { transposeB, bias }));
    expect(counts.dispatches).toBe(1);
    expect(await values(y)).toEqual([17, -8.5, 13, -8.5]); // [[1 + 6, 0.5 - 2 + 3], [-1 + 4, -0.5 + 2]] + bias
    const grads = tf.grads((x: tf.Tensor, w: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(matMul(x as tf.Tensor2D, w as tf.Tensor2D, { transposeB, bias: c }), dy)))([a, b, bias]);
    expect(await values(grads[0])).toEqual([2, -2, 4, 2.5, 1, 5]); // dy bᵀ
    expect(await values(grads[2])).toEqual([4, 1]); // dy's column sums
  }, 120_000);

  it('rmsNorm: one dispatch each way, a hand-computed row, and the gradients of its tfjs reference (autodiff) to 1e-5', async () => {
    const x = tf.tensor2d([[1, 2, 3, 4], [0.5, -1, 2, 0]]);
    const w = tf.tensor1d([1, 0.5, 2, -1]);
    const dy = tf.tensor2d([[1, -2, 0.5, 3], [2, 1, -1, 0.25]]);
    const { result: y, counts } = await countWebGPU(() => rmsNorm(x, w, 1e-6));
    expect(counts.byKernel).toEqual({ TxRMSNorm: 1 });
    const r = 1 / Math.sqrt(30 / 4 + 1e-6); // row 0: mean(x²) = 7.5
    expect(maxAbsDifference((await values(y)).slice(0, 4), [1 * r, 1 * r, 6 * r, -4 * r])).toBeLessThan(1e-6);
    const grads = () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(rmsNorm(a, b, 1e-6), dy)))([x, w]);
    const { result: ours, counts: back } = await countWebGPU(grads);
    expect(back.byKernel.TxRMSNormGrad).toBe(1);
    useWebGPUKernels(false);
    const reference = grads();
    useWebGPUKernels(true);
    for (const i of [0, 1]) expect(maxAbsDifference(await values(ours[i]), await values(reference[i]))).toBeLessThan(1e-5);
  }, 120_000);

  it('siluGate: one dispatch each way, hand-computed values, and the gradients of its tfjs reference (autodiff) to 1e-5', async () => {
    const gate = tf.tensor1d([0, 1, -2, 3]);
    const up = tf.tensor1d([5, 2, 1, -1]);
    const dy = tf.tensor1d([1, 0.5, -1, 2]);
    const { result: y, counts } = await countWebGPU(() => siluGate(gate, up));
    expect(counts.byKernel).toEqual({ TxSiluGate: 1 });
    const silu = (z: number) => z / (1 + Math.exp(-z));
    expect(maxAbsDifference(await values(y), [0, 2 * silu(1), silu(-2), -silu(3)])).toBeLessThan(1e-6);
    const grads = () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(siluGate(a, b), dy)))([gate, up]);
    const { result: ours, counts: back } = await countWebGPU(grads);
    expect(back.byKernel.TxSiluGateGrad).toBe(1);
    useWebGPUKernels(false);
    const reference = grads();
    useWebGPUKernels(true);
    for (const i of [0, 1]) expect(maxAbsDifference(await values(ours[i]), await values(reference[i]))).toBeLessThan(1e-5);
  }, 120_000);
});
