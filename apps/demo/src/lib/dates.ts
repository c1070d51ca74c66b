// What the dates view may honestly say. The dates model was trained on ten
// human formats of dates in 1950-2049 (@tx/train's DATE_FORMATS); asked
// anything else ("next tuesday", a sentence) it still writes ten characters
// that look like a date. So the view checks both ends: is the input one of
// the trained formats, and is the output a real calendar date?
import { DATE_FORMATS } from '@tx/train';

/** Why `iso` is not a valid YYYY-MM-DD date ("month 13 does not exist"), or null when it is one. */
export function isoDateProblem(iso: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return `“${iso}” is not of the form YYYY-MM-DD`;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12) return `month ${m[2]} does not exist`;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d < 1 || d > days) return `day ${m[3]} does not exist in ${y}-${m[2]} (it has ${days} days)`;
  return null;
}

const DAY = 86_400_000;
const START = Date.UTC(1950, 0, 1);
const END = Date.UTC(2049, 11, 31);

/**
 * Whether `input` is written exactly as the model's training data writes
 * dates: one of the ten formats, for a date in 1950-2049. Tries every day
 * (36,525 days x 10 formats; a few tens of milliseconds, once per rewrite).
 */
export function inTrainedFormat(input: string): boolean {
  const text = input.trim();
  if (!text) return false;
  for (let t = START; t <= END; t += DAY) {
    const day = new Date(t);
    const [y, m, d, w] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), day.getUTCDay()];
    for (const format of DATE_FORMATS) if (format(y, m, d, w) === text) return true;
  }
  return false;
}
