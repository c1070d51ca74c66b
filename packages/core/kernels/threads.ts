// The work of one thread of a pool (src/kernels/pool.ts): every thread,
// the caller's included, calls work() with its index on the same job, which
// the caller wrote into a control block in shared memory, and takes its part.
//
// Control block (i32 words): 0 generation, 1 threads done (both for the
// JavaScript side's Atomics), 2 the job's op, 4.. its arguments.
import { matmulPanels, panelCount } from './matmul';

const OP_MATMUL = 1;

// @ts-ignore: decorator
@inline function arg(control: usize, i: i32): i32 {
  return load<i32>(control + 16 + (<usize>i << 2));
}

/** Thread `thread` of `threads` does its share of the job at `control`. */
export function work(control: usize, thread: i32, threads: i32): void {
  if (load<i32>(control + 8) == OP_MATMUL) {
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
