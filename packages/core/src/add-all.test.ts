import { beforeAll, describe, expect, it } from 'vitest';
import { addAll } from './add-all.js';
import { initBackend } from './backend.js';
import { expectNoLeak } from './testing.js';
import { tf } from './tf.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

describe('addAll', () => {
  it('adds 21 tensors (more than WebGPU can bind in one kernel), one, or none', async () => {
    const xs = Array.from({ length: 21 }, (_, i) => tf.tensor1d([i, 2 * i]));
    expect(await addAll(xs).array()).toEqual([210, 420]);
    const one = addAll([xs[3]]);
    expect(one).not.toBe(xs[3]); // the caller owns the result, as with several inputs
    expect(await one.array()).toEqual([3, 6]);
    expect(await addAll([]).array()).toBe(0);
    await expectNoLeak(() => addAll(xs).dispose());
    tf.dispose([...xs, one]);
  });
});
