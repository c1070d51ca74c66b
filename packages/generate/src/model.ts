// What @tx/generate needs from a model: a decoder that takes ids and returns
// the next-token logits. @tx/blocks' GPT provides one with a KV cache (each
// new token costs one position's work) and one without (recomputes the
// window), so both can be compared token for token.

export interface StepOutput {
  /** Logits for the token after the last one fed: [vocabSize]. */
  logits: Float32Array;
  /** When requested: attention weights of the last position, [layer][head][key]. */
  attention?: number[][][];
}

export interface Decoder {
  /** Append ids to the sequence and return the logits that follow the last one. */
  feed(ids: readonly number[]): Promise<StepOutput>;
  /** An independent copy of this decoder's state (for beam search). */
  fork(): Decoder;
  /** Free its tensors (the KV cache). */
  dispose(): void;
}

export interface CausalLanguageModel {
  readonly vocabSize: number;
  /** The model's context length; decoders slide a window beyond it. */
  readonly contextLength: number;
  startDecoder(options?: { cache?: boolean; attention?: boolean }): Decoder;
}
