import { describe, expect, it } from 'vitest';
import { nextTokenBars } from './bars.js';

describe('nextTokenBars', () => {
  it('sorts by probability, marks the chosen token and hides the rows that read 0.000', () => {
    // What the view got before: vocabulary order, one token with all the mass after top-p.
    const top = [{ id: 0, text: '\n', p: 1 }, { id: 1, text: ' ', p: 0 }, { id: 2, text: '!', p: 0.0001 }, { id: 7, text: 'a', p: 0 }];
    expect(nextTokenBars(top, 0)).toEqual({ bars: [{ id: 0, text: '\n', p: 1, chosen: true }], hidden: 3 });
    const spread = [{ id: 3, text: 'b', p: 0.2 }, { id: 4, text: 'c', p: 0.5 }, { id: 5, text: 'd', p: 0.3 }];
    expect(nextTokenBars(spread, 5).bars.map((b) => [b.text, b.chosen])).toEqual([['c', false], ['d', true], ['b', false]]);
  });
});
