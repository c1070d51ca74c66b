// JSON from a file or flag a user handed over. JSON.parse says only where the
// text went wrong ("Unexpected end of JSON input"), not which file it was, and
// each caller has its own error class (a CheckpointError, a ConfigError, a
// UsageError): this names the file and throws the caller's class.
//
// This file imports only errors.ts, which imports nothing: no tfjs.
import { TxError } from './errors.js';

/** An error class that parseJson can throw: TxError or one of its subclasses (`new (message, { cause })`). */
export type ErrorClass = new (message: string, options?: { cause?: unknown }) => Error;

/**
 * `JSON.parse(text)`, or an error of class `error` (default TxError) naming
 * `where`, the file or flag the text came from: `runs/x/config.json: not valid
 * JSON (Unexpected end of JSON input)`, with JSON.parse's error as its cause.
 */
export function parseJson(text: string, where: string, error: ErrorClass = TxError): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new error(`${where}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}
