// Plain-array helpers for the positional view's plots. The encodings
// themselves come from @tx/positional (sinusoidalTable, rotaryAngle,
// rotateVector), so the view draws what the models compute.

export function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Largest absolute value, for symmetric colour scales. */
export function absMax(m: readonly (readonly number[])[]): number {
  let max = 0;
  for (const row of m) for (const x of row) if (Math.abs(x) > max) max = Math.abs(x);
  return max || 1;
}
