// Sinusoidal positional encoding, "Attention Is All You Need" §3.5:
//
//   PE(pos, 2i)   = sin(pos / 10000^(2i / dModel))
//   PE(pos, 2i+1) = cos(pos / 10000^(2i / dModel))
//
// Column j uses the frequency of its pair, i = floor(j / 2). Odd dModel: the
// last column (j = dModel - 1, even) is the sine of pair i = (dModel - 1) / 2,
// whose cosine partner would be column dModel, outside the table, so it is
// left out. The exponent still divides by dModel, exactly as the formula says.
import { ShapeError, tf } from '@tx/core';

/** The angular frequency of column j: 1 / 10000^(2 floor(j/2) / dModel). */
function sinusoidalFrequency(j: number, dModel: number): number {
  return 1 / Math.pow(10000, (2 * Math.floor(j / 2)) / dModel);
}

/** The table as float64 numbers, row-major [positions, dModel]: what the tensor is rounded from. */
export function sinusoidalTable(positions: number, dModel: number): Float64Array {
  checkSize('positions', positions);
  checkSize('dModel', dModel);
  const out = new Float64Array(positions * dModel);
  for (let j = 0; j < dModel; j++) {
    const w = sinusoidalFrequency(j, dModel);
    const f = j % 2 === 0 ? Math.sin : Math.cos;
    for (let pos = 0; pos < positions; pos++) out[pos * dModel + j] = f(pos * w);
  }
  return out;
}

/** PE as a float32 tensor [positions, dModel], computed in float64 and rounded once. */
export function sinusoidalEncoding(positions: number, dModel: number): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(sinusoidalTable(positions, dModel)), [positions, dModel], 'float32');
}

function checkSize(name: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0) throw new ShapeError(`sinusoidalEncoding: ${name} must be a positive integer, found ${n}`);
}
