import { describe, expect, it } from 'vitest';
import { TxError, ValueError } from './errors.js';
import { parseJson } from './json.js';

describe('parseJson', () => {
  it('parses valid JSON', () => {
    expect(parseJson('{"a": [1, 2.5, null]}', 'x.json')).toEqual({ a: [1, 2.5, null] });
  });

  it('names where the text came from, keeps JSON.parse\'s reason as the cause, and throws the class asked for', () => {
    let caught: unknown;
    try {
      parseJson('{"maxIters": ', 'runs/x/config.json');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TxError);
    expect((caught as Error).message).toMatch(/^runs\/x\/config\.json: not valid JSON \(.+\)$/);
    expect((caught as Error).cause).toBeInstanceOf(SyntaxError);
    expect((caught as Error).message).toBe(`runs/x/config.json: not valid JSON (${((caught as Error).cause as Error).message})`);
    expect(() => parseJson('nope', '--flag', ValueError)).toThrow(ValueError);
  });
});
