// Every error @tx throws on bad input is a TxError: the message says what was
// expected and what was found, so a user can fix the input without a debugger.
//
// @tx/tokenizer imports no tfjs, so it cannot import this class; its
// TokenizerError carries the same brand instead, and `instanceof TxError`
// holds for it too: one base for every package's errors.
//
// This file imports nothing, and is also the entry '@tx/core/errors': code
// that loads no tfjs (@tx/generate) throws the same classes.
const BRAND = Symbol.for('@tx/error');

/** The base of every error thrown on bad input: its message says what was expected and what was found. */
export class TxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses keep the ordinary prototype check; TxError itself also accepts the brand.
    if (this !== TxError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return value instanceof Error && (value as unknown as Record<symbol, unknown>)[BRAND] === true;
  }
}
(TxError.prototype as unknown as Record<symbol, unknown>)[BRAND] = true;

/** A backend could not start, or tfjs ended up on another backend than the one asked for. */
export class BackendError extends TxError {}

/** A state dict does not fit a module: a missing, unexpected or mis-shaped tensor. */
export class StateDictError extends TxError {}

/** A safetensors file is truncated, corrupt or uses something we cannot read. */
export class SafetensorsError extends TxError {}

/** A tensor has the wrong shape or dtype for the operation. */
export class ShapeError extends TxError {}

/** A value is out of range: a probability, a token id, a size. */
export class ValueError extends TxError {}

/** A shape as error messages print it: `[2, 3]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
