// Whether @tx's WGSL kernels run on tfjs's webgpu backend (on by default).
// Off, every op takes its tfjs reference there: the baseline the kernels are
// counted and checked against.
let active = true;

/** Turn @tx's WGSL kernels on tfjs's webgpu backend on or off (default on); off, each op runs its tfjs reference. */
export function useWebGPUKernels(on: boolean): void {
  active = on;
}

/** Whether @tx's WGSL kernels are on (useWebGPUKernels). */
export function webgpuKernelsActive(): boolean {
  return active;
}
