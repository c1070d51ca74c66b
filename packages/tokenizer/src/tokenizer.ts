// What every @tx tokenizer offers. The trainer, generation and the demo only
// use this interface, so a character model and a GPT-2 model plug in alike.

/** Which special tokens encode() turns into their ids; the others are encoded as plain text. */
export type AllowedSpecial = 'all' | 'none' | readonly string[];

/** Options of encode: which special tokens' text becomes their ids. */
export interface EncodeOptions {
  /**
   * Default 'none' ('all' for a Hugging Face tokenizer.json, as Hugging Face
   * finds added tokens in the text): a special token's text (say `<|endoftext|>`) in the input
   * is ordinary text, so user text cannot inject control tokens. 'all', or a
   * list of names, makes those strings their special ids.
   */
  allowedSpecial?: AllowedSpecial;
  /**
   * Add the tokens a Hugging Face tokenizer's post-processor adds (Llama's
   * `<s>` before the text), as Hugging Face's `add_special_tokens`. Default
   * true; tokenizers without a post-processor ignore it.
   */
  addSpecialTokens?: boolean;
}

/**
 * Streaming text out of ids, one at a time. A byte-level token can end in the
 * middle of a UTF-8 character (an emoji is 4 bytes, often 2 or more tokens):
 * push() returns only characters that are complete, so U+FFFD never shows up
 * mid-stream for a valid sequence. The concatenation of every push() and the
 * final flush() equals decode(ids) for the same ids.
 */
export interface TextStream {
  /** Add one id; return the text it completes (often "", never half a character). */
  push(id: number): string;
  /** End of stream: the rest (bytes of an unfinished character become U+FFFD), then reset. */
  flush(): string;
}

/** What every tokenizer does: text to ids and back, its vocabulary size and special tokens, and its JSON form. */
export interface Tokenizer {
  readonly kind: 'char' | 'bpe' | 'word';
  /**
   * One more than the largest id, special tokens included: every id encode()
   * returns is below it, so an embedding table needs this many rows. Ids below
   * it may be gaps (cl100k's 100256), which decode() refuses.
   */
  readonly vocabSize: number;
  /** Text to ids. Never throws on a JS string (CharTokenizer without `unk` throws on characters it has never seen). */
  encode(text: string, options?: EncodeOptions): number[];
  /** Ids to text. Throws a TokenizerError naming the first id that is not in the vocabulary. */
  decode(ids: readonly number[]): string;
  /** A fresh stream of text from ids (push one id at a time). */
  textStream(): TextStream;
  /** The special tokens and their ids. */
  readonly specialTokens: Readonly<Record<string, number>>;
  /** Our JSON format (see loadTokenizer). */
  toJSON(): TokenizerJSON;
}

/** A CharTokenizer as toJSON writes it and loadTokenizer reads it. */
export interface CharTokenizerJSON {
  kind: 'char';
  version?: 1;
  /** The vocabulary, one code point per id, in id order (sorted, nanoGPT's convention). */
  chars: string;
  /** Special tokens, with ids after the characters in this order. */
  specialTokens?: string[];
  /** The special token that unknown characters become (if any). */
  unk?: string | null;
}

/** A BpeTokenizer as toJSON writes it and loadTokenizer reads it. */
export interface BpeTokenizerJSON {
  kind: 'bpe';
  version: 1;
  /** The split regex source (JS syntax, compiled with the "gu" flags). */
  pattern: string;
  /** The bytes of each id, base64; null where the id is a special token or unused. */
  vocab: (string | null)[];
  /**
   * Merges in priority order as [left, right, merged] ids. Absent: tiktoken's
   * rule, where a pair's rank is the id of the concatenated bytes.
   */
  merges?: [number, number, number][];
  /** With merges: a piece that is itself a token becomes that token without merging (tiktoken and HF's ignore_merges do this). */
  ignoreMerges?: boolean;
  specialTokens: Record<string, number>;
}

/** A WordTokenizer as toJSON writes it and loadTokenizer reads it. */
export interface WordTokenizerJSON {
  kind: 'word';
  version?: 1;
  /** Words are lowercased (and ’ read as ') before lookup. Default true. */
  lowercase?: boolean;
  /** Special tokens, with the first ids in this order. */
  specialTokens?: string[];
  /** The padding token, one of specialTokens (if any). */
  pad?: string | null;
  /** The special token that unknown words become (if any). */
  unk?: string | null;
  /** The vocabulary's words, in id order after the special tokens. */
  words: string[];
}

/** A Hugging Face tokenizer.json (a HuggingFaceTokenizer saves the file it was loaded from). */
export interface HuggingFaceTokenizerJSON {
  kind?: undefined;
  /** The model: `{ type: 'BPE', vocab, merges, ... }`. */
  model: Record<string, unknown>;
  /** added_tokens, normalizer, pre_tokenizer, post_processor, decoder, ... as Hugging Face writes them. */
  [field: string]: unknown;
}

/** Any tokenizer's JSON form, by its kind: 'char', 'bpe' or 'word', or a Hugging Face tokenizer.json. */
export type TokenizerJSON = CharTokenizerJSON | BpeTokenizerJSON | WordTokenizerJSON | HuggingFaceTokenizerJSON;

/** Options for reading a tokenizer file. */
export interface LoadOptions {
  /**
   * Run the file's split pattern even if it is not a known pattern and fails
   * the static check for slow regexes (see the README). Only for files you
   * trust: a hostile pattern can hang encode().
   */
  trustPattern?: boolean;
}
