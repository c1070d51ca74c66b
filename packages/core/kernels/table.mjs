// The kernel table: every kernel that TypeScript calls, its arguments in
// order with their types, and how a pool's threads split it. It is the only
// place where the two sides meet: scripts/build-kernels.mjs reads it and
// writes both
//   kernels/work.generated.ts   (AssemblyScript) the op ids, the control
//                               block's layout and work(), which reads a
//                               job's arguments by name and calls the kernel;
//   src/kernels/jobs.generated.ts  (TypeScript) the same op ids and layout,
//                               the module's exports' types, and one typed
//                               job builder per kernel (named fields).
// Every kernel runs through one call path, src/kernels/call.ts: the job is
// written into a control block and work() runs it, on the calling thread or
// on every thread of a pool.
//
// Argument types:
//   'in', 'out', 'inout'   a buffer the kernel reads, writes, or both (a byte
//                  offset in the wasm memory; a pool with its own memory
//                  copies it in, or back out); 'in?', 'out?' may be absent
//                  (null: offset 0)
//   'i32', 'f32', 'bool'   a number (an f32 travels as its bits)
// split (how the threads of a pool share one job):
//   'one'                       the calling thread does it all
//   { range: ARG, align? }      threads take [first, last) of 0..ARG (in
//                               steps of `align`); the kernel gets every
//                               other argument, then first, last
//   'self'                      the kernel gets thread, threads and splits itself
// scratch: true    the job carries per-thread scratch bytes; the kernel gets
//                  its thread's scratch as the last argument.
// Adding a kernel: its AssemblyScript file, its entry here, its op in
// src/ops/ (packages/core/README.md, "Adding a kernel").

/** Words of the control block (int32), then the job's arguments from `args`. */
export const control = { generation: 0, done: 1, op: 2, failed: 3, args: 4, bytes: 256 };

// Attention's kernels (kernels/attention.ts): the buffers, then the sizes of the heads
// layout (q [heads, Tq, d]) or the packed one (qkv [B, T, 3 H d]); threads take whole heads.
const HEADS = { Tq: 'i32', Tk: 'i32', d: 'i32', scale: 'f32', causal: 'bool', heads: 'i32' };
const PACKED = { H: 'i32', T: 'i32', d: 'i32', scale: 'f32', causal: 'bool', heads: 'i32' };
const attention = (buffers, sizes) => ({ from: './attention', args: { ...buffers, ...sizes }, split: { range: 'heads' }, scratch: true });

/** The kernels, by name; the op id is the position in this list, from 1. */
export const kernels = {
  matmul: {
    from: './matmul',
    call: 'matmulJob',
    args: { a: 'in', aRow: 'i32', aCol: 'i32', b: 'in', bRow: 'i32', bCol: 'i32', c: 'out', M: 'i32', N: 'i32', K: 'i32', batch: 'i32', aStep: 'i32', bStep: 'i32', cStep: 'i32' },
    split: 'self',
    scratch: true,
  },
  gelu: { from: './gelu', args: { x: 'in', y: 'out', n: 'i32', approximate: 'bool' }, split: { range: 'n', align: 4 } },
  geluGrad: { from: './gelu', args: { x: 'in', dy: 'in', dx: 'out', n: 'i32', approximate: 'bool' }, split: { range: 'n', align: 4 } },
  layerNorm: { from: './layernorm', args: { x: 'in', w: 'in', b: 'in?', y: 'out', mean: 'out', rstd: 'out', N: 'i32', C: 'i32', eps: 'f32' }, split: 'one' },
  layerNormGrad: {
    from: './layernorm',
    args: { x: 'in', w: 'in', mean: 'in', rstd: 'in', dy: 'in', dx: 'out', dw: 'out', db: 'out?', N: 'i32', C: 'i32' },
    split: 'one',
  },
  sumOfSquares: { from: './adamw', args: { x: 'in', n: 'i32', out: 'out' }, split: 'one' },
  adamW: {
    from: './adamw',
    args: {
      p: 'in', m: 'in', v: 'in', g: 'in', pOut: 'out', mOut: 'out', vOut: 'out', n: 'i32',
      scale: 'f32', beta1: 'f32', oneMinusBeta1: 'f32', beta2: 'f32', oneMinusBeta2: 'f32', correction2: 'f32', eps: 'f32', decay: 'f32', stepSize: 'f32',
    },
    split: 'one',
  },
  crossEntropy: {
    from: './crossentropy',
    args: { x: 'in', targets: 'in', N: 'i32', V: 'i32', hasIgnore: 'bool', ignore: 'i32', eps: 'f32', lse: 'out', out: 'out' },
    split: 'one',
  },
  crossEntropyGrad: {
    from: './crossentropy',
    args: { x: 'in', targets: 'in', lse: 'in', dy: 'in', N: 'i32', V: 'i32', hasIgnore: 'bool', ignore: 'i32', eps: 'f32', dx: 'out' },
    split: 'one',
  },
  attentionForward: attention({ q: 'in', k: 'in', v: 'in', out: 'out', lse: 'out' }, HEADS),
  attentionBackward: attention({ q: 'in', k: 'in', v: 'in', out: 'in', lse: 'in', dout: 'in', dq: 'out', dk: 'out', dv: 'out' }, HEADS),
  attentionPackedForward: attention({ qkv: 'in', out: 'out', lse: 'out' }, PACKED),
  attentionPackedBackward: attention({ qkv: 'in', out: 'in', lse: 'in', dout: 'in', dqkv: 'out' }, PACKED),
  decode: {
    from: './decoder',
    // The layer description (see src/kernels/decoder.ts's DecoderLayout): norm 0 LayerNorm, 1 RMSNorm;
    // activation 0 GELU, 1 tanh GELU, 2 ReLU, 3 SiLU; positions 0 learned, 1 RoPE (the rope slot's table);
    // window 0: the whole context; q, k and v in one projection (the qkv slot) or apart (q, k, v).
    args: {
      weights: 'in', tokens: 'in', n: 'i32', pos: 'i32',
      layers: 'i32', heads: 'i32', kvHeads: 'i32', dModel: 'i32', dFF: 'i32', vocab: 'i32', context: 'i32',
      norm: 'i32', activation: 'i32', gated: 'bool', positions: 'i32', eps: 'f32', headDim: 'i32', window: 'i32',
      kCache: 'inout', vCache: 'inout', logits: 'out?',
    },
    split: 'one',
    scratch: true,
  },
  rmsNorm: { from: './rmsnorm', args: { x: 'in', w: 'in', y: 'out', rstd: 'out', N: 'i32', C: 'i32', eps: 'f32' }, split: 'one' },
  rmsNormGrad: { from: './rmsnorm', args: { x: 'in', w: 'in', rstd: 'in', dy: 'in', dx: 'out', dw: 'out', N: 'i32', C: 'i32' }, split: 'one' },
  siluGate: { from: './silugate', args: { gate: 'in', up: 'in', y: 'out', n: 'i32' }, split: { range: 'n', align: 4 } },
  siluGateGrad: { from: './silugate', args: { gate: 'in', up: 'in', dy: 'in', dgate: 'out', dup: 'out', n: 'i32' }, split: { range: 'n', align: 4 } },
  rope: { from: './rope', args: { x: 'in', cos: 'in', sin: 'in', y: 'out', rows: 'i32', T: 'i32', d: 'i32', transpose: 'bool' }, split: { range: 'rows' } },
};

/** Exports that size a kernel's scratch, with their arguments. */
export const sizes = {
  matmulScratch: { from: './matmul', args: ['M', 'N', 'K'] },
  attentionScratch: { from: './attention', args: ['Tq', 'Tk', 'd'] },
  decodeScratch: { from: './decoder', args: ['dModel', 'heads', 'kvHeads', 'headDim', 'dFF', 'context', 'rows'] },
};

/**
 * The fused decoder's weight table (decode's `weights`): the header's slots,
 * then each layer's, one u32 offset each (0 for an absent bias, or gate, or
 * head: a tied head reads the embedding's rows; qkv, or q, k and v held
 * apart). Linear weights are [in, out]. rope: RoPE's cos and sin [context,
 * headDim] (per position, the cos then the sin of its headDim / 2 angles),
 * which the decoder computes, 0 with learned positions.
 */
export const decoderSlots = {
  header: ['embed', 'positions', 'rope', 'normF', 'normFBias', 'head'],
  layer: [
    'norm1', 'norm1Bias', 'qkv', 'qkvBias', 'q', 'qBias', 'k', 'kBias', 'v', 'vBias',
    'proj', 'projBias', 'norm2', 'norm2Bias', 'up', 'upBias', 'gate', 'gateBias', 'down', 'downBias',
  ],
};
