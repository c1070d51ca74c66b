// The generation contract, types only: what @tx/generate needs from a model,
// and what @tx/blocks' models provide. A decoding session takes ids and
// returns the logits of the token after them; it owns any KV cache, through a
// Decoder.

/** What to do when the text grows past the model's context (blockSize tokens). */
export type ContextOverflow =
  /** nanoGPT's generate: every step sees the last blockSize ids, recomputed (exact, slower past the context). */
  | 'crop'
  /** Restart the KV cache from the last 3/4 of the context, recomputed in one pass (faster; each token sees 3/4 to all of the context). */
  | 'restart';

/** Options of LanguageModel.startSession: the KV cache, attention output, and what happens past the context. */
export interface SessionOptions {
  /** Keep keys and values of earlier tokens (default true). */
  cache?: boolean;
  /** Report the last position's attention probabilities at each step. */
  attention?: boolean;
  /** Default 'crop'. */
  contextOverflow?: ContextOverflow;
}

/** What DecodingSession.feed returns: the next token's logits, and the attention when asked for. */
export interface StepOutput {
  /** Logits for the token after the last one fed: [vocabSize]. */
  logits: Float32Array;
  /** When requested: the attention probabilities of the last position, [layer][head][key]. */
  attention?: number[][][];
}

/** A model's state while decoding one sequence: feed ids, get the logits of the token that follows. */
export interface DecodingSession {
  /** Append ids to the sequence and return the logits that follow the last one. */
  feed(ids: readonly number[]): Promise<StepOutput>;
  /** An independent copy of this session's state (for beam search). */
  fork(): DecodingSession;
  /** Free its tensors (the KV cache). */
  dispose(): void;
}

/** A model that decodes: its vocabulary, its context length and its sessions. The models of `@tx/blocks` implement it; `@tx/generate` drives it. */
export interface LanguageModel {
  readonly vocabSize: number;
  /** The context length: how many ids the next token can depend on. */
  readonly blockSize: number;
  startSession(options?: SessionOptions): DecodingSession;
}

/**
 * One sequence's forward state while decoding, whatever runs it (tfjs's
 * kernels with KV caches, or @tx's fused wasm decoder): ids in, the next
 * token's logits out. A session (@tx/blocks' GPTSession) holds one and
 * decides what it is fed past the context.
 */
export interface Decoder {
  /** Positions held: the next id's position. Set it to 0 to start afresh (the next feed replaces what was held). */
  position: number;
  /** Feed ids at positions position.. and return the logits after the last (and its attention when the decoder reports it). */
  feed(ids: readonly number[]): Promise<StepOutput>;
  /** An independent copy, at the same position. */
  clone(): Decoder;
  /** Free what it holds (once: a second call does nothing). */
  dispose(): void;
}
