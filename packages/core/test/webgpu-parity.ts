// @tx's WGSL kernels on tfjs's webgpu backend against their references, as one
// list of cases that runs wherever that backend does: in Node through Dawn
// (src/webgpu/kernels.test.ts, with the source's modules) and in Chromium
// (apps/demo/test/webgpu-parity.test.ts, whose page bundles this file with the
// built @tx/core). One list, so the two cannot drift.
//
// References: the PyTorch fixture (tooling/fixtures/kernels.py) to 1e-4 for
// adamW, gelu, layerNorm, crossEntropy, attention and selfAttention, outputs
// and gradients; where the fixture has no case (matMul's bias, rmsNorm,
// siluGate), hand-computed values and tfjs's own ops (the kernels switched off).
//
// Each case also counts its dispatches per tfjs kernel at the WebGPU API
// (countWebGPU), per phase: a forward dispatches exactly its Tx kernel; a
// gradient (tf.grad of sum(y · dy): the forward again, then the backward)
// dispatches exactly the Tx kernels expected, besides tfjs's own ops for the
// sum. That is how a run proves @tx's WGSL ran, not tfjs's fallback.
//
// This file imports nothing at run time but adamw-case.ts: @tx/core comes in
// as an argument, and a case returns plain data (the page hands it to Node).
import type * as Core from '../src/index.js';
import type * as Testing from '../src/testing.js';
import type { ExpectStatic } from 'vitest';
import { adamwSlots, adamwStep } from './adamw-case.js';
import type { AttentionCase, KernelsFixture } from './kernels-fixture.js';

/** What the cases use of @tx/core: the source's modules in Node, the built package in the browser page. */
export type ParityCore = Pick<
  typeof Core,
  'tf' | 'countWebGPU' | 'useWebGPUKernels' | 'adamW' | 'attention' | 'selfAttention' | 'crossEntropy' | 'gelu' | 'layerNorm' | 'matMul' | 'rmsNorm' | 'siluGate'
> &
  Pick<typeof Testing, 'maxAbsDifference'>;

/** Dispatches per tfjs kernel: `exactly` these, or `tx`: exactly these of @tx's (Tx*), beside any of tfjs's own ops. */
export type ExpectedDispatches = { exactly: Record<string, number> } | { tx: Record<string, number> };

/** One output or gradient: its largest |ours - reference|, and the most allowed. */
export interface ParityCheck {
  what: string;
  difference: number;
  tolerance: number;
}

/** What a case measured, as plain data. */
export interface ParityOutcome {
  /** The op (gelu, attention, ...): the browser test reports the largest difference per op. */
  kernel: string;
  name: string;
  /** Per phase ('forward', 'gradient', 'step 1', ...): the dispatches expected, and those counted. */
  expected: Record<string, ExpectedDispatches>;
  dispatches: Record<string, Record<string, number>>;
  checks: ParityCheck[];
}

/** A case: its op and name, known before it runs (for it.each), and the run. */
export interface ParityCase {
  kernel: string;
  name: string;
  run(): Promise<ParityOutcome>;
}

/** The fixture's tolerance on webgpu: float32 WGSL against float64 PyTorch. */
export const TOLERANCE = 1e-4;

/** Assert an outcome with vitest's `expect` (each check and phase named in its message). */
export function expectParity(expect: ExpectStatic, o: ParityOutcome): void {
  expect(Object.keys(o.dispatches).sort(), `${o.name}: the phases counted`).toEqual(Object.keys(o.expected).sort());
  for (const [phase, want] of Object.entries(o.expected)) {
    const got = o.dispatches[phase];
    const label = `${o.name}: dispatches of ${phase}`;
    if ('exactly' in want) expect(got, label).toEqual(want.exactly);
    else expect(Object.fromEntries(Object.entries(got).filter(([k]) => k.startsWith('Tx'))), label).toEqual(want.tx);
  }
  for (const c of o.checks) expect(c.difference, `${o.name}: ${c.what}`).toBeLessThanOrEqual(c.tolerance);
}

type Tensor = Core.Tensor;
type Numbers = ArrayLike<number> | Tensor;

/** Every case, in a fixed order; nothing runs (no tensor is made) until a case's run(). */
export function webgpuParityCases(core: ParityCore, fixture: KernelsFixture): ParityCase[] {
  const { tf } = core;
  const define = (kernel: string, name: string, expected: Record<string, ExpectedDispatches>, body: (r: Recorder) => Promise<void>): ParityCase => ({
    kernel,
    name,
    async run() {
      const r = new Recorder(core);
      await body(r);
      return { kernel, name, expected, dispatches: r.dispatches, checks: r.checks };
    },
  });
  /** The Tx kernels of a forward (exactly: nothing else), and of a gradient: the forward again, then `backward`. */
  const oneEach = (forward: Record<string, number>, backward: Record<string, number>) => ({ forward: { exactly: forward }, gradient: { tx: { ...forward, ...backward } } });
  const withoutKernels = <T>(fn: () => T): T => {
    core.useWebGPUKernels(false);
    try {
      return fn();
    } finally {
      core.useWebGPUKernels(true);
    }
  };
  const cases: ParityCase[] = [];

  const a = fixture.adamw;
  cases.push(
    define(
      'adamW',
      'adamW takes the steps of clip_grad_norm_ then torch.optim.AdamW in 3 dispatches for 2 parameters (1 norm, 1 each), no read-back',
      Object.fromEntries(a.steps.map((_, i) => [`step ${i + 1}`, { exactly: { TxAdamWUpdate: 2, TxSumOfSquares: 1 } }])),
      async (r) => {
        let slots = adamwSlots(tf, a);
        for (const [i, s] of a.steps.entries()) {
          const step = `step ${i + 1}`;
          const grads = [tf.tensor2d(s.grad_W, [3, 5]), tf.tensor1d(s.grad_b)];
          const out = await r.count(step, () =>
            core.adamW(
              slots.map((x, j) => ({ ...x, grad: grads[j], decay: x.decayed ? 1 - a.lr * a.weight_decay : 1 })),
              adamwStep(a, i + 1),
              a.max_norm,
            ),
          );
          r.checks.push({ what: `${step}: read-backs (each a stall)`, difference: r.readBacks, tolerance: 0 });
          await r.check(`${step}: the norm before clipping`, out.norm!, [s.norm]);
          slots = slots.map((x, j) => ({ ...x, param: out.params[j], m: out.m[j], v: out.v[j] }));
          for (const [j, [p, m, v]] of ([[s.W, s.m_W, s.v_W], [s.b, s.m_b, s.v_b]] as const).entries()) {
            const name = ['W', 'b'][j];
            await r.check(`${step}: ${name}`, slots[j].param, p);
            await r.check(`${step}: m_${name}`, slots[j].m, m);
            await r.check(`${step}: v_${name}`, slots[j].v, v);
          }
        }
      },
    ),
  );

  for (const c of fixture.gelu) {
    cases.push(
      define('gelu', `gelu matches PyTorch (${c.approximate ? 'tanh' : 'exact'}) in one dispatch each way`, oneEach({ TxGelu: 1 }, { TxGeluGrad: 1 }), async (r) => {
        const [x, dy] = [tf.tensor1d(c.x), tf.tensor1d(c.dy)];
        const options = { approximate: c.approximate };
        await r.check('y', await r.count('forward', () => core.gelu(x, options)), c.y);
        await r.check('dx', await r.count('gradient', () => tf.grad((t: Tensor) => tf.sum(tf.mul(core.gelu(t, options), dy)))(x)), c.dx);
      }),
    );
  }

  for (const c of fixture.layer_norm) {
    const name = `layerNorm matches PyTorch (${c.n}x${c.c}${c.bias ? ' with bias' : ''}) in one dispatch each way`;
    cases.push(
      define('layerNorm', name, oneEach({ TxLayerNorm: 1 }, { TxLayerNormGrad: 1 }), async (r) => {
        const x = tf.tensor2d(c.x, [c.n, c.c]);
        const w = tf.tensor1d(c.weight);
        const b = c.b ? tf.tensor1d(c.b) : null;
        const dy = tf.tensor2d(c.dy, [c.n, c.c]);
        await r.check('y', await r.count('forward', () => core.layerNorm(x, w, b, c.eps)), c.y);
        const inputs = b ? [x, w, b] : [x, w];
        const grads = await r.count('gradient', () => tf.grads((...t: Tensor[]) => tf.sum(tf.mul(core.layerNorm(t[0], t[1], t[2] ?? null, c.eps), dy)))(inputs));
        await r.check('dx', grads[0], c.dx);
        await r.check('dweight', grads[1], c.dweight);
        if (b) await r.check('dbias', grads[2], c.dbias!);
      }),
    );
  }

  for (const c of fixture.cross_entropy) {
    const name = `crossEntropy matches PyTorch (${c.n}x${c.v}, ignore ${c.ignore}, smoothing ${c.smoothing}) in one dispatch each way`;
    cases.push(
      define('crossEntropy', name, oneEach({ TxCrossEntropy: 1 }, { TxCrossEntropyGrad: 1 }), async (r) => {
        const x = tf.tensor2d(c.x, [c.n, c.v]);
        const t = tf.tensor1d(c.targets, 'int32');
        const options = { ignoreIndex: c.ignore ?? undefined, labelSmoothing: c.smoothing };
        await r.check('loss', await r.count('forward', () => core.crossEntropy(x, t, options)), [c.loss]);
        await r.check('dx', await r.count('gradient', () => tf.grad((l: Tensor) => core.crossEntropy(l, t, options))(x)), c.dx);
      }),
    );
  }

  const shape = (c: AttentionCase) => `${c.shape.join('x')}${c.causal ? ', causal' : ''}`;
  for (const c of fixture.attention) {
    cases.push(
      define('attention', `attention matches PyTorch (B h Tq Tk d = ${shape(c)}): 1 dispatch forward, 2 backward`, oneEach({ TxAttention: 1 }, { TxAttentionGrad: 2 }), async (r) => {
        const [B, h, Tq, Tk, d] = c.shape;
        const [q, k, v] = [tf.tensor(c.q, [B, h, Tq, d]), tf.tensor(c.k, [B, h, Tk, d]), tf.tensor(c.v, [B, h, Tk, d])];
        const dout = tf.tensor(c.dout, [B, h, Tq, d]);
        const options = { scale: c.scale, causal: c.causal };
        await r.check('out', await r.count('forward', () => core.attention(q, k, v, options)), c.out);
        const grads = await r.count('gradient', () => tf.grads((x: Tensor, y: Tensor, z: Tensor) => tf.sum(tf.mul(core.attention(x, y, z, options), dout)))([q, k, v]));
        for (const [i, want] of [c.dq, c.dk, c.dv].entries()) await r.check(['dq', 'dk', 'dv'][i], grads[i], want);
      }),
    );
  }

  // selfAttention reads q, k and v from one [B, T, 3C] tensor, rows of heads: the fixture's [B, h, T, d] cases (Tq = Tk), packed.
  for (const c of fixture.attention.filter((x) => x.shape[2] === x.shape[3])) {
    const name = `selfAttention matches PyTorch from one packed [B, T, 3C] tensor (B h T T d = ${shape(c)}): 1 dispatch each way`;
    cases.push(
      define('selfAttention', name, oneEach({ TxAttentionPacked: 1 }, { TxAttentionPackedGrad: 1 }), async (r) => {
        const [B, h, T, , d] = c.shape;
        const pack = (...xs: number[][]) => tf.tensor(packRows([B, h, T, d], xs), [B, T, xs.length * h * d]);
        const qkv = pack(c.q, c.k, c.v);
        const dout = pack(c.dout);
        const options = { scale: c.scale, causal: c.causal };
        await r.check('out', await r.count('forward', () => core.selfAttention(qkv, h, options)), packRows([B, h, T, d], [c.out]));
        const dqkv = await r.count('gradient', () => tf.grad((x: Tensor) => tf.sum(tf.mul(core.selfAttention(x, h, options), dout)))(qkv));
        await r.check('dqkv', dqkv, packRows([B, h, T, d], [c.dq, c.dk, c.dv]));
      }),
    );
  }

  // matMul's bias on webgpu rides in tfjs's fused product (_FusedMatMul), not a WGSL kernel of @tx's: hand-computed, exactly.
  for (const transposeB of [false, true]) {
    cases.push(
      define('matMul', `matMul adds a bias in the product's own dispatch (transposeB ${transposeB}), with its gradients`, { forward: { exactly: { _FusedMatMul: 1 } } }, async (r) => {
        const x = tf.tensor2d([[1, 2, 3], [-1, 0, 2]]);
        const w = transposeB ? tf.tensor2d([[1, 0, 2], [0.5, -1, 1]]) : tf.tensor2d([[1, 0.5], [0, -1], [2, 1]]);
        const bias = tf.tensor1d([10, -10]);
        const dy = tf.tensor2d([[1, 2], [3, -1]]);
        // [[1 + 6, 0.5 - 2 + 3], [-1 + 4, -0.5 + 2]] + bias
        await r.check('y', await r.count('forward', () => core.matMul(x, w, { transposeB, bias })), [17, -8.5, 13, -8.5], 0);
        const grads = tf.grads((p: Tensor, q: Tensor, s: Tensor) => tf.sum(tf.mul(core.matMul(p as Core.tf.Tensor2D, q as Core.tf.Tensor2D, { transposeB, bias: s }), dy)))([x, w, bias]);
        await r.check('dx = dy wᵀ', grads[0], [2, -2, 4, 2.5, 1, 5], 0);
        await r.check("dbias = dy's column sums", grads[2], [4, 1], 0);
      }),
    );
  }

  cases.push(
    define('rmsNorm', 'rmsNorm: one dispatch each way, a hand-computed row, and the gradients of its tfjs reference (autodiff) to 1e-5', oneEach({ TxRMSNorm: 1 }, { TxRMSNormGrad: 1 }), async (r) => {
      const x = tf.tensor2d([[1, 2, 3, 4], [0.5, -1, 2, 0]]);
      const w = tf.tensor1d([1, 0.5, 2, -1]);
      const dy = tf.tensor2d([[1, -2, 0.5, 3], [2, 1, -1, 0.25]]);
      const y = await r.count('forward', () => core.rmsNorm(x, w, 1e-6));
      const s = 1 / Math.sqrt(30 / 4 + 1e-6); // row 0: mean(x²) = 7.5
      await r.check('y, row 0', tf.slice(y, [0, 0], [1, 4]), [1 * s, 1 * s, 6 * s, -4 * s], 1e-6);
      const grads = () => tf.grads((p: Tensor, q: Tensor) => tf.sum(tf.mul(core.rmsNorm(p, q, 1e-6), dy)))([x, w]);
      const ours = await r.count('gradient', grads);
      const reference = withoutKernels(grads);
      await r.check('dx', ours[0], reference[0], 1e-5);
      await r.check('dweight', ours[1], reference[1], 1e-5);
    }),
  );

  cases.push(
    define('siluGate', 'siluGate: one dispatch each way, hand-computed values, and the gradients of its tfjs reference (autodiff) to 1e-5', oneEach({ TxSiluGate: 1 }, { TxSiluGateGrad: 1 }), async (r) => {
      const gate = tf.tensor1d([0, 1, -2, 3]);
      const up = tf.tensor1d([5, 2, 1, -1]);
      const dy = tf.tensor1d([1, 0.5, -1, 2]);
      const silu = (z: number) => z / (1 + Math.exp(-z));
      await r.check('y', await r.count('forward', () => core.siluGate(gate, up)), [0, 2 * silu(1), silu(-2), -silu(3)], 1e-6);
      const grads = () => tf.grads((p: Tensor, q: Tensor) => tf.sum(tf.mul(core.siluGate(p, q), dy)))([gate, up]);
      const ours = await r.count('gradient', grads);
      const reference = withoutKernels(grads);
      await r.check('dgate', ours[0], reference[0], 1e-5);
      await r.check('dup', ours[1], reference[1], 1e-5);
    }),
  );

  // The switch: off, the same ops dispatch none of @tx's kernels and give the same values (the baseline the kernels are counted against).
  cases.push(
    define('kernels off', 'with the kernels off, each op takes its tfjs reference on webgpu, with the same values', { 'kernels on': { exactly: { TxGelu: 1, TxLayerNorm: 1, TxCrossEntropy: 1 } }, 'kernels off': { tx: {} } }, async (r) => {
      const x = tf.randomNormal([6, 40], 0, 1, 'float32', 1);
      const w = tf.randomNormal([40], 1, 0.1, 'float32', 2);
      const t = tf.tensor1d([0, 5, 39, 7, 7, 1], 'int32');
      const all = () => [core.gelu(x), core.layerNorm(x, w, null, 1e-5), core.crossEntropy(x, t, { labelSmoothing: 0.1 })];
      const on = await r.count('kernels on', all);
      const off = await r.count('kernels off', () => withoutKernels(all));
      for (const [i, what] of ['gelu', 'layerNorm', 'crossEntropy'].entries()) await r.check(`${what}: on against off`, on[i], off[i]);
    }),
  );
  return cases;
}

/** [B, h, T, d] arrays (row-major), each as [B, T, h·d] rows, laid side by side: [B, T, n·h·d]. */
function packRows([B, h, T, d]: number[], xs: number[][]): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (const x of xs) for (let j = 0; j < h; j++) out.push(...x.slice(((b * h + j) * T + t) * d, ((b * h + j) * T + t + 1) * d));
  return out;
}

/** A case's counts per phase and checks, as it runs. */
class Recorder {
  dispatches: Record<string, Record<string, number>> = {};
  checks: ParityCheck[] = [];
  /** The read-backs of the last phase counted. */
  readBacks = 0;
  constructor(private readonly core: ParityCore) {}

  /** Run `fn` as `phase`, counting its dispatches per tfjs kernel. */
  async count<T>(phase: string, fn: () => T): Promise<T> {
    const { result, counts } = await this.core.countWebGPU(fn);
    this.dispatches[phase] = counts.byKernel;
    this.readBacks = counts.readBacks;
    return result;
  }

  /** Record max |ours - want| against `tolerance`. */
  async check(what: string, ours: Numbers, want: Numbers, tolerance = TOLERANCE): Promise<void> {
    const read = async (x: Numbers) => ('dataSync' in x ? await x.data() : x);
    this.checks.push({ what, difference: this.core.maxAbsDifference(await read(ours), await read(want)), tolerance });
  }
}
