// The dates task, generated in code: a date in one of many human formats,
// then "=", then the same date in ISO 8601. Seeded, so a run repeats.
import type { Rng } from '@tx/core';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad = (n: number) => String(n).padStart(2, '0');
const ordinal = (d: number) => d + (d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th');

export const DATE_FORMATS: Array<(y: number, m: number, d: number, wd: number) => string> = [
  (y, m, d) => `${d} ${MONTHS[m - 1].slice(0, 3)} ${y}`,
  (y, m, d) => `${pad(m)}/${pad(d)}/${String(y).slice(2)}`,
  (y, m, d, wd) => `${DAYS[wd]}, ${MONTHS[m - 1]} ${ordinal(d)} ${y}`,
  (y, m, d) => `${MONTHS[m - 1]} ${d}, ${y}`,
  (y, m, d) => `${d}.${m}.${y}`,
  (y, m, d) => `${ordinal(d)} of ${MONTHS[m - 1]} ${y}`,
];

export interface DateExample { human: string; iso: string }

export function randomDate(rng: Rng): DateExample {
  const y = 1950 + rng.int(100);
  const m = 1 + rng.int(12);
  const d = 1 + rng.int(new Date(Date.UTC(y, m, 0)).getUTCDate());
  const wd = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  const format = DATE_FORMATS[rng.int(DATE_FORMATS.length)];
  return { human: format(y, m, d, wd), iso: `${y}-${pad(m)}-${pad(d)}` };
}

/** Lines "human=iso\n" for a character language model. */
export function datesCorpus(count: number, rng: Rng): string {
  let out = '';
  for (let i = 0; i < count; i++) {
    const { human, iso } = randomDate(rng);
    out += `${human}=${iso}\n`;
  }
  return out;
}
