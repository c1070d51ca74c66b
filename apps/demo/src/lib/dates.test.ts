import { describe, expect, it } from 'vitest';
import { inTrainedFormat, isoDateProblem } from './dates.js';

describe('isoDateProblem', () => {
  it('accepts real dates and names what is wrong with the others', () => {
    expect(isoDateProblem('2026-11-27')).toBeNull();
    expect(isoDateProblem('2024-02-29')).toBeNull(); // a leap year
    expect(isoDateProblem('2000-06-00')).toBe('day 00 does not exist in 2000-06 (it has 30 days)'); // the model's answer to "next tuesday"
    expect(isoDateProblem('2023-02-29')).toBe('day 29 does not exist in 2023-02 (it has 28 days)');
    expect(isoDateProblem('2000-13-07')).toBe('month 13 does not exist');
    expect(isoDateProblem('2000-3-7')).toBe('“2000-3-7” is not of the form YYYY-MM-DD');
  });
});

describe('inTrainedFormat', () => {
  it('knows the ten trained formats for 1950-2049, and nothing else', () => {
    expect(inTrainedFormat('Friday, November 27th 2026')).toBe(true);
    expect(inTrainedFormat('11/27/26')).toBe(true);
    expect(inTrainedFormat('27.11.2026')).toBe(true);
    expect(inTrainedFormat('the 27th of November, 2026')).toBe(true);
    expect(inTrainedFormat('next tuesday')).toBe(false);
    expect(inTrainedFormat('the animal was too tired')).toBe(false);
    expect(inTrainedFormat('Saturday, November 27th 2026')).toBe(false); // 27 Nov 2026 is a Friday
    expect(inTrainedFormat('27 Nov 2126')).toBe(false); // outside 1950-2049
  });
});
