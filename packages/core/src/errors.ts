// Every error @tx throws on bad input is a TxError: the message says what was
// expected and what was found, so a user can fix the input without a debugger.

export class TxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A backend could not start, or tfjs ended up on another backend than the one asked for. */
export class BackendError extends TxError {}

/** A state dict does not fit a module: a missing, unexpected or mis-shaped tensor. */
export class StateDictError extends TxError {}

/** A safetensors file is truncated, corrupt or uses something we cannot read. */
export class SafetensorsError extends TxError {}

/** A tensor or value has the wrong shape, dtype or range for the operation. */
export class ShapeError extends TxError {}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
