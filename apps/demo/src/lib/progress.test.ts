import { describe, expect, it } from 'vitest';
import { Progress, formatBytes } from './progress.js';
import { readStream } from './read.js';

describe('Progress', () => {
  it('adds the files up once their sizes are known, and is indeterminate while one is not', () => {
    const p = new Progress();
    p.start('config.json', 800);
    p.start('model.safetensors', 499_200);
    p.add('config.json', 800);
    p.finish('config.json');
    p.add('model.safetensors', 100_000);
    expect([p.loaded, p.total, p.fraction()]).toEqual([100_800, 500_000, 0.2016]);
    expect(p.label()).toBe('model.safetensors: 100.8 kB of 500.0 kB (20%)');
    p.start('tokenizer.json', null); // no Content-Length
    p.add('tokenizer.json', 6_423);
    expect([p.loaded, p.total, p.fraction()]).toEqual([107_223, null, null]);
    expect(p.label()).toBe('model.safetensors, tokenizer.json: 107.2 kB');
    p.finish('tokenizer.json'); // its size is what arrived
    p.add('model.safetensors', 399_200);
    p.finish('model.safetensors');
    expect([p.loaded, p.total, p.fraction()]).toEqual([506_423, 506_423, 1]);
    expect(p.label()).toBe('done: 506.4 kB of 506.4 kB (100%)');
  });

  it('takes more bytes than announced as an unknown size (a compressed Content-Length)', () => {
    const p = new Progress();
    p.start('model.safetensors', 10);
    p.add('model.safetensors', 15);
    expect([p.loaded, p.total, p.fraction()]).toEqual([15, null, null]);
    expect(() => p.add('vocab.json', 1)).toThrow('progress: vocab.json was not started');
  });

  it('writes sizes in decimal units', () => {
    expect([0, 999, 1_500, 548_100_000, 1_806_245_888, 4_294_967_296].map(formatBytes)).toEqual(['0 B', '999 B', '1.5 kB', '548.1 MB', '1.8 GB', '4.3 GB']);
  });
});

describe('readStream', () => {
  const stream = () => new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of [[1, 2, 3], [4, 5], [6]]) c.enqueue(new Uint8Array(chunk));
      c.close();
    },
  });

  it('reads every chunk into one buffer, reporting each', async () => {
    for (const size of [6, null, 4, 8]) { // right, unknown, too small, too large
      const seen: number[] = [];
      const bytes = await readStream(stream(), size, (n) => seen.push(n));
      expect([...bytes]).toEqual([1, 2, 3, 4, 5, 6]);
      expect(seen).toEqual([3, 2, 1]);
    }
  });
});
