// Running the split pattern over a long text. V8's regex engine keeps a
// backtracking stack of its own, of about 4 million entries: one greedy match
// over a few million characters overflows it, and the engine throws
// "RangeError: Maximum call stack size exceeded" (measured on Node 20:
// `[^\s\p{L}\p{N}]+`, GPT-2's, fails past 4.19 million emoji in a row;
// `(a)+`, a capture in a loop, past 3.3 million letters). So a text longer
// than WINDOW UTF-16 code units (2 million, at least 1.6 times below those
// limits; Tiny Shakespeare fits in one) is matched in windows, which no
// single match can exceed:
//
// - A match that ends before the last MARGIN units of its window is taken as
//   is. It is the match a single scan of the whole text finds, as long as the
//   regex did not look more than MARGIN units past its end (gpt2 and cl100k
//   look one character past a run; cl100k's `\s*[\r\n]` a run of whitespace).
// - A match that reaches into the margin is matched again at the start of the
//   next window, with the rest of the text in view.
// - A match that starts its window and still reaches the margin is a piece
//   longer than WINDOW - MARGIN: it is cut there (a single scan would find a
//   longer piece, which is what overflows).
//
// Windows start with up to CONTEXT units of the text before them in view, so
// `\b` and short lookbehinds see what they would in a single scan.
import { TokenizerError } from './errors.js';

export const WINDOW = 1 << 21;
export const MARGIN = 1 << 16;
const CONTEXT = 256;

export interface ScanOptions {
  /** Window size in UTF-16 code units (default WINDOW); tests make it small. */
  window?: number;
  /** Margin in code units (default MARGIN); less than window - 1. */
  margin?: number;
}

const isLead = (text: string, i: number) => {
  const c = text.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff;
};
const isTrail = (text: string, i: number) => {
  const c = text.charCodeAt(i);
  return c >= 0xdc00 && c <= 0xdfff;
};
/** Move i back off the second half of a surrogate pair. */
const boundary = (text: string, i: number, min: number) => (i > min && isTrail(text, i) && isLead(text, i - 1) ? i - 1 : i);

/** Call onPiece with each non-empty match of the global regex in text[start, end), in order, and its offset in text. */
export function forEachPiece(text: string, start: number, end: number, regex: RegExp, onPiece: (piece: string, at: number) => void, options: ScanOptions = {}): void {
  const window = options.window ?? WINDOW;
  const margin = options.margin ?? MARGIN;
  let pos = start;
  while (pos < end) {
    const last = pos + window >= end;
    const stop = last ? end : boundary(text, pos + window, pos + 1);
    const from = boundary(text, Math.max(start, pos - CONTEXT), start);
    const view = from === 0 && stop === text.length ? text : text.slice(from, stop);
    const offset = pos - from;
    const keep = last ? view.length : stop - margin - from; // matches must end by here
    let next = last ? end : boundary(text, from + keep, pos + 1);
    regex.lastIndex = offset;
    for (let m = exec(regex, view, pos); m !== null; m = exec(regex, view, pos)) {
      const a = m.index;
      const b = a + m[0].length;
      if (b > keep) {
        if (a > offset) {
          next = from + a; // redo it with the rest of the text in view
        } else {
          onPiece(m[0], from + a); // a piece as long as the window: cut it here
          next = from + b;
        }
        break;
      }
      if (a === b) regex.lastIndex += (view.codePointAt(a) ?? 0) > 0xffff ? 2 : 1; // an empty match must still move on
      else onPiece(m[0], from + a);
    }
    pos = next;
  }
}

function exec(regex: RegExp, view: string, pos: number): RegExpExecArray | null {
  try {
    return regex.exec(view);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new TokenizerError(`expected the split pattern to match the text from offset ${pos} within the regex engine's stack, found it ran out (${err.message}); use a simpler split pattern`, { cause: err });
  }
}
