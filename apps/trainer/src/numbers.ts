// Numbers as tx reads them from the command line: plain decimal, nothing
// else. JavaScript's Number() also takes "0x10", "0b1", " 1e-3 ", "" (as 0)
// and "Infinity"; a flag that took those would train at lr 16 on a typo.
// Integers are digits only ("1e3" and "2.0" are refused) and must be exact
// (at most 2^53 - 1); other numbers may have a fraction and an exponent.

const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** The number `text` writes in plain decimal ("7", "-1", "0.5", "1e-3"; integers digits only), or null for anything else. */
export function decimal(text: string, { integer }: { integer: boolean }): number | null {
  if (!(integer ? INTEGER : DECIMAL).test(text)) return null;
  const n = Number(text);
  return integer ? (Number.isSafeInteger(n) ? n : null) : Number.isFinite(n) ? n : null;
}
