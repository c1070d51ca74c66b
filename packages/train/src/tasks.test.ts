import { describe, expect, it } from 'vitest';
import { Rng, ValueError } from '@tx/core';
import { DATE_FORMATS, exactMatch, makeExamples, maxTargetLength, randomDate, taskAlphabet } from './tasks.js';

describe('seq2seq tasks', () => {
  it('writes 27 November 2026 (a Friday) in every format', () => {
    expect(DATE_FORMATS.map((f) => f(2026, 11, 27, 5))).toEqual([
      '27 Nov 2026',
      '11/27/26',
      'Friday, November 27th 2026',
      'November 27, 2026',
      '27.11.2026',
      'Nov 27 2026',
      'the 27th of November, 2026',
      'fri 27 nov 2026',
      '11/27/2026',
      '27 NOVEMBER 2026',
    ]);
    expect(DATE_FORMATS[2](2026, 1, 1, 4)).toBe('Thursday, January 1st 2026');
    expect(DATE_FORMATS[6](2026, 1, 12, 1)).toBe('the 12th of January, 2026');
  });

  it('pairs each source with the right ISO date and weekday', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 500; i++) {
      const { source, target } = randomDate(rng);
      const [y, m, d] = target.split('-').map(Number);
      const weekday = new Date(Date.UTC(y, m - 1, d)).toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' });
      expect(target).toMatch(/^(19[5-9]\d|20[0-4]\d)-\d\d-\d\d$/);
      if (/day,/.test(source)) expect(source.startsWith(weekday)).toBe(true);
      if (/^\d+\/\d+\/\d\d$/.test(source)) expect(source).toBe(`${m}/${d}/${String(y % 100).padStart(2, '0')}`);
    }
  });

  it('copy and reverse targets, reproducible under a seed', () => {
    const copy = makeExamples('copy', 50, new Rng(2));
    expect(copy.every((e) => e.source === e.target && e.source.length >= 1 && e.source.length <= 12)).toBe(true);
    const reverse = makeExamples('reverse', 50, new Rng(2));
    expect(reverse.map((e) => e.source)).toEqual(copy.map((e) => e.source));
    expect(reverse[0].target).toBe([...reverse[0].source].reverse().join(''));
    expect(exactMatch(['x', reverse[1].target], reverse.slice(0, 2))).toBe(0.5);
    expect(() => exactMatch(['x'], reverse.slice(0, 2))).toThrow(ValueError);
    expect(() => exactMatch(['x'], reverse.slice(0, 2))).toThrow('1 predictions for 2 examples');
  });

  it('each task\'s alphabet covers every character of its examples, and targets fit maxTargetLength', () => {
    for (const task of ['dates', 'copy', 'reverse'] as const) {
      const alphabet = new Set(taskAlphabet(task));
      for (const e of makeExamples(task, 2000, new Rng(5))) {
        for (const c of e.source + e.target) expect(alphabet.has(c), `${task}: ${JSON.stringify(c)} in ${e.source}`).toBe(true);
        expect(e.target.length).toBeLessThanOrEqual(maxTargetLength(task));
      }
    }
  });
});
