/**
 * Swap a[i] and a[j] of one of a heap's parallel arrays. A temporary, not
 * [a[i], a[j]] = [a[j], a[i]]: that allocates an array per swap, and a piece of
 * millions of bytes does tens of millions of swaps.
 */
export function swapAt(a: { [index: number]: number }, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
