export interface Measurement {
  median: number;
  p10: number;
  p90: number;
  runs: number;
}
export declare function measure(fn: () => unknown, options?: { warmup?: number; iters?: number; minMs?: number }): Promise<Measurement>;
export declare function report(title: string, rows: Array<Record<string, unknown>>): void;
