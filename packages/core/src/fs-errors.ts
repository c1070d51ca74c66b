// File-system errors as users should read them. Node's messages end with the
// syscall and the path it was given ("ENOSPC: no space left on device, write"),
// and the path is often a temporary file the user never asked for; we name
// the file they asked for and keep the code and its meaning.
import { TxError } from './errors.js';

/**
 * "ENOSPC: no space left on device" from a Node system error (code and
 * description, without the syscall and paths); the message of any other error.
 */
export function systemErrorReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && err.message.startsWith(`${code}: `)) {
    const comma = err.message.indexOf(', ');
    return comma < 0 ? err.message : err.message.slice(0, comma);
  }
  return code !== undefined ? `${code}: ${err.message}` : err.message;
}

/** A TxError `${path}: ${doing} (${reason})` that keeps the original error as its cause. */
export function fileError(path: string, doing: string, err: unknown): TxError {
  return new TxError(`${path}: ${doing} (${systemErrorReason(err)})`, { cause: err });
}
