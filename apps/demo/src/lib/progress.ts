// One progress bar for a model folder: hundreds of megabytes over the
// network, or from disk through the file picker. Each file counts once its
// size is known; while a started file's size is unknown (a server may send no
// Content-Length, or a compressed one) the bar is indeterminate rather than
// wrong.

interface FileProgress {
  loaded: number;
  total: number | null;
  done: boolean;
}

export class Progress {
  private readonly files = new Map<string, FileProgress>();

  /** A file starts: `total` bytes, or null when the size is unknown. */
  start(name: string, total: number | null): void {
    this.files.set(name, { loaded: 0, total, done: false });
  }

  /** `bytes` more of a file arrived. More than announced means the size was wrong: it becomes unknown. */
  add(name: string, bytes: number): void {
    const f = this.files.get(name);
    if (!f) throw new Error(`progress: ${name} was not started`);
    f.loaded += bytes;
    if (f.total !== null && f.loaded > f.total) f.total = null;
  }

  /** A file is read to the end: its size is what arrived. */
  finish(name: string): void {
    const f = this.files.get(name);
    if (!f) throw new Error(`progress: ${name} was not started`);
    f.total = f.loaded;
    f.done = true;
  }

  get loaded(): number {
    let sum = 0;
    for (const f of this.files.values()) sum += f.loaded;
    return sum;
  }

  /** Bytes in all, or null while a file's size is unknown. */
  get total(): number | null {
    let sum = 0;
    for (const f of this.files.values()) {
      if (f.total === null) return null;
      sum += f.total;
    }
    return sum;
  }

  /** 0..1, or null (indeterminate). */
  fraction(): number | null {
    const total = this.total;
    if (total === null) return null;
    return total === 0 ? 1 : this.loaded / total;
  }

  /** "model.safetensors: 12.3 MB of 548.1 MB (2%)": the files still coming, and the bytes of all. */
  label(): string {
    const coming = [...this.files].filter(([, f]) => !f.done).map(([name]) => name);
    const total = this.total;
    const bytes = total === null ? formatBytes(this.loaded) : `${formatBytes(this.loaded)} of ${formatBytes(total)} (${Math.floor(100 * this.fraction()!)}%)`;
    return coming.length ? `${coming.join(', ')}: ${bytes}` : `done: ${bytes}`;
  }
}

/** Decimal units, as file managers and HTTP clients show sizes: 1500 -> "1.5 kB". */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n / 1000, unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
