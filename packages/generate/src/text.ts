// Turning ids into text while they stream. A byte-level BPE token can end in
// the middle of a UTF-8 character (an emoji is 4 bytes, often 2+ tokens), so
// text is only emitted once the characters are complete.

/** What generation needs of a tokenizer: decode, and its own text stream when it has one. */
export interface TextDecoderLike {
  decode(ids: readonly number[]): string;
  /** A tokenizer's own text stream (as @tx/tokenizer's), preferred when present. */
  textStream?(): StreamingText;
}

/** Text from ids one at a time, emitted only once its UTF-8 characters are complete. */
export interface StreamingText {
  /** Add one id; return the newly completed text (possibly ""). */
  push(id: number): string;
  /** Whatever is left at the end (an incomplete character becomes U+FFFD). */
  flush(): string;
}

/**
 * A streaming view over any tokenizer's decode(): it decodes the ids since
 * the last complete character and holds back a trailing U+FFFD, which is how
 * a UTF-8 decoder shows a character that is not complete yet.
 */
export function streamingText(tokenizer: TextDecoderLike): StreamingText {
  if (tokenizer.textStream) return tokenizer.textStream();
  let pending: number[] = [];
  return {
    push(id) {
      pending.push(id);
      const text = tokenizer.decode(pending);
      if (text.endsWith('\uFFFD') && pending.length < 8) return ''; // wait for the rest of the character
      pending = [];
      return text;
    },
    flush() {
      const text = pending.length ? tokenizer.decode(pending) : '';
      pending = [];
      return text;
    },
  };
}
