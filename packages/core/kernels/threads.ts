// The work of one thread of a pool (src/kernels/pool.ts): every thread,
// the caller's included, calls work() with its index on the same job, which
// the caller wrote into a control block in shared memory, and takes its part.
//
// Control block (i32 words): 0 generation, 1 threads done (both for the
// JavaScript side's Atomics), 2 the job's op, 3 a failure flag, 4.. its arguments.
import { attentionPackedBackward, attentionPackedForward } from './attention';
import { gelu, geluGrad } from './gelu';
import { matmulPanels, panelCount } from './matmul';

// The ops (src/kernels/pool.ts's POOL_OPS says the same).
const OP_MATMUL = 1;
const OP_ATTENTION = 2;
const OP_ATTENTION_GRAD = 3;
const OP_GELU = 4;
const OP_GELU_GRAD = 5;

// @ts-ignore: decorator
@inline function arg(control: usize, i: i32): i32 {
  return load<i32>(control + 16 + (<usize>i << 2));
}

/** Thread `thread` of `threads` does its share of the job at `control`. */
export function work(control: usize, thread: i32, threads: i32): void {
  const op = load<i32>(control + 8);
  if (op == OP_ATTENTION || op == OP_ATTENTION_GRAD) {
    // Packed self-attention, whole heads per thread; args: qkv out lse dout dqkv H T d scale(f32 bits)
    // causal heads scratch scratchPerThread.
    const H = arg(control, 5), T = arg(control, 6), d = arg(control, 7);
    const scale = reinterpret<f32>(arg(control, 8));
    const causal = arg(control, 9) != 0;
    const heads = arg(control, 10);
    const scratch = <usize>arg(control, 11) + <usize>thread * <usize>arg(control, 12);
    const first = (heads * thread) / threads;
    const last = (heads * (thread + 1)) / threads;
    const qkv = <usize>arg(control, 0), out = <usize>arg(control, 1), lse = <usize>arg(control, 2);
    if (op == OP_ATTENTION) attentionPackedForward(qkv, out, lse, H, T, d, scale, causal, first, last, scratch);
    else attentionPackedBackward(qkv, out, lse, <usize>arg(control, 3), <usize>arg(control, 4), H, T, d, scale, causal, first, last, scratch);
    return;
  }
  if (op == OP_GELU || op == OP_GELU_GRAD) {
    // Element-wise, in blocks of 4; args: x dy out n approximate.
    const n = arg(control, 3);
    const blocks = (n + 3) / 4;
    const i0 = ((blocks * thread) / threads) * 4;
    const i1 = min(n, ((blocks * (thread + 1)) / threads) * 4);
    if (i1 <= i0) return;
    const at = <usize>i0 << 2;
    const approximate = arg(control, 4) != 0;
    if (op == OP_GELU) gelu(<usize>arg(control, 0) + at, <usize>arg(control, 2) + at, i1 - i0, approximate);
    else geluGrad(<usize>arg(control, 0) + at, <usize>arg(control, 1) + at, <usize>arg(control, 2) + at, i1 - i0, approximate);
    return;
  }
  if (op == OP_MATMUL) {
    // A batch of products C_i = op(A_i) · op(B_i); args: a aRow aCol b bRow bCol c M N K batch
    // aStep bStep cStep (bytes between items) scratch scratchPerThread.
    const a = <usize>arg(control, 0), aRow = arg(control, 1), aCol = arg(control, 2);
    const b = <usize>arg(control, 3), bRow = arg(control, 4), bCol = arg(control, 5);
    const c = <usize>arg(control, 6), M = arg(control, 7), N = arg(control, 8), K = arg(control, 9);
    const batch = arg(control, 10);
    const aStep = <usize>arg(control, 11), bStep = <usize>arg(control, 12), cStep = <usize>arg(control, 13);
    const scratch = <usize>arg(control, 14) + <usize>thread * <usize>arg(control, 15);
    const panels = panelCount(N);
    if (batch >= threads) {
      // Whole products per thread (attention's heads).
      const i0 = (batch * thread) / threads;
      const i1 = (batch * (thread + 1)) / threads;
      for (let i = i0; i < i1; i++) {
        matmulPanels(a + <usize>i * aStep, aRow, aCol, b + <usize>i * bStep, bRow, bCol, c + <usize>i * cStep, M, N, K, 0, panels, scratch);
      }
    } else {
      // One product split by column panels.
      const p0 = (panels * thread) / threads;
      const p1 = (panels * (thread + 1)) / threads;
      for (let i = 0; i < batch; i++) {
        if (p1 > p0) matmulPanels(a + <usize>i * aStep, aRow, aCol, b + <usize>i * bStep, bRow, bCol, c + <usize>i * cStep, M, N, K, p0, p1, scratch);
      }
    }
  }
}
