// Every error @tx/tokenizer throws on bad input is a TokenizerError. This
// package imports nothing from @tx/core (it is pure TypeScript and stands
// alone), so it carries TxError's brand instead of extending it. The message
// says what was expected and what was found, naming the character, offset,
// line or id.

/** A tokenizer's error: a bad file, text it cannot encode, an id it cannot decode. `instanceof TxError` holds for it too. */
export class TokenizerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
// The brand @tx/core's TxError recognises: `err instanceof TxError` holds for a
// TokenizerError too, so every @tx package's errors share one base.
(TokenizerError.prototype as unknown as Record<symbol, unknown>)[Symbol.for('@tx/error')] = true;

/** `"é" (U+00E9)`: a character as a person can read it, even when it is invisible. */
export function describeChar(char: string): string {
  const cp = char.codePointAt(0) ?? 0;
  return `${JSON.stringify(char)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
}

/** 1-based line and column of a UTF-16 offset, for messages. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}
