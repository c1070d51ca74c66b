// The next-token bars of the generate view: the candidates sorted by
// probability, largest first, the chosen one marked, and the rows that would
// read 0.000 left out (after top-k and top-p most of the ten have no mass).

/** One bar: a candidate token and its probability. */
export interface Bar {
  id: number;
  text: string;
  p: number;
  chosen: boolean;
}

/** The bars to draw, largest first, and how many rows of (rounded) zero were hidden. */
export function nextTokenBars(top: ReadonlyArray<{ id: number; text: string; p: number }>, chosen: number, { digits = 3 } = {}): { bars: Bar[]; hidden: number } {
  const visible = 0.5 * 10 ** -digits; // the smallest p that does not print as 0.000
  const sorted = [...top].sort((a, b) => b.p - a.p || a.id - b.id);
  const bars = sorted.filter((t) => t.p >= visible || t.id === chosen).map((t) => ({ ...t, chosen: t.id === chosen }));
  return { bars, hidden: sorted.length - bars.length };
}
