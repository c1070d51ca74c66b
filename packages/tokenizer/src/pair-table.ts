// An integer-keyed hash table from a pair of ids (left, right) to a number.
// The BPE inner loop asks "what is the rank of this adjacent pair?" millions
// of times; a JS Map would need a string key or a key past the small-integer
// range (100k x 100k ids), so this is open addressing over typed arrays.

const EMPTY = -1;

export class PairTable {
  private left: Int32Array;
  private right: Int32Array;
  private values: Float64Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.left = new Int32Array(cap).fill(EMPTY);
    this.right = new Int32Array(cap);
    this.values = new Float64Array(cap);
    this.mask = cap - 1;
  }

  private slot(a: number, b: number): number {
    let h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    let i = (h ^ (h >>> 13)) & this.mask;
    const left = this.left;
    while (left[i] !== EMPTY && (left[i] !== a || this.right[i] !== b)) i = (i + 1) & this.mask;
    return i;
  }

  /** The value for (a, b), or `missing` when the pair is not in the table. */
  get(a: number, b: number, missing: number): number {
    const i = this.slot(a, b);
    return this.left[i] === EMPTY ? missing : this.values[i];
  }

  set(a: number, b: number, value: number): void {
    const i = this.slot(a, b);
    if (this.left[i] === EMPTY) {
      this.left[i] = a;
      this.right[i] = b;
      this.size++;
      this.values[i] = value;
      if (this.size * 2 > this.mask) this.grow();
      return;
    }
    this.values[i] = value;
  }

  private grow(): void {
    const { left, right, values } = this;
    const cap = left.length * 2;
    this.left = new Int32Array(cap).fill(EMPTY);
    this.right = new Int32Array(cap);
    this.values = new Float64Array(cap);
    this.mask = cap - 1;
    for (let i = 0; i < left.length; i++) {
      if (left[i] === EMPTY) continue;
      const j = this.slot(left[i], right[i]);
      this.left[j] = left[i];
      this.right[j] = right[i];
      this.values[j] = values[i];
    }
  }
}
