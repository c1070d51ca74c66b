import { describe, expect, it } from 'vitest';
import { formatDuration, renderProgress } from './progress.js';
import { ConfigError, checkField, parseConfigFile } from './schema.js';

describe('settings schema', () => {
  it('parses flags and config values to their types', () => {
    expect(checkField('maxIters', '200', '--max-iters', { text: true })).toBe(200);
    expect(checkField('lr', 0.001, 'lr')).toBe(0.001);
    expect(checkField('backend', 'wasm', '--backend')).toBe('wasm');
  });

  it.each([
    ['maxIters', 'ten', '--max-iters must be an integer >= 1, got "ten"'],
    ['maxIters', 2.5, '--max-iters must be an integer >= 1, got 2.5'],
    ['lr', 0, '--max-iters must be a number > 0, got 0'],
    ['beta2', 1.5, '--max-iters must be a number >= 0 and <= 1, got 1.5'],
    ['backend', 'tpu', '--max-iters must be one of auto, webgpu, wasm, cpu, got "tpu"'],
  ] as const)('rejects %s = %j', (name, value, message) => {
    expect(() => checkField(name, value, '--max-iters', { text: true })).toThrow(message);
  });

  it('names the file, line and field of a bad config value', () => {
    const text = '{\n  "maxIters": 100,\n  "batchSize": -3\n}\n';
    expect(() => parseConfigFile(text, 'run.json')).toThrow(ConfigError);
    expect(() => parseConfigFile(text, 'run.json')).toThrow('run.json:3: field "batchSize" must be an integer >= 1 and <= 65536, got -3');
    expect(() => parseConfigFile('{"maxIter": 3}', 'run.json')).toThrow('run.json:1: unknown field "maxIter"');
    expect(() => parseConfigFile('{"maxIters": ', 'run.json')).toThrow('run.json: not valid JSON');
    expect(parseConfigFile('{"maxIters": 3, "bias": false}', 'run.json')).toEqual({ maxIters: 3, bias: false });
  });
});

describe('progress line', () => {
  it('draws the bar, the numbers and the ETA', () => {
    expect(renderProgress({ step: 350, maxIters: 2000, loss: 2.31412, lr: 9.6e-4, tokensPerSecond: 2612.4, msPerStep: 68 }, 20)).toBe(
      '[####................]  350/2000  loss 2.3141  lr 9.6e-4  2,612 tok/s  ETA 1m 52s',
    );
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe('3h 05m');
    expect(formatDuration(Number.NaN)).toBe('?');
  });
});
