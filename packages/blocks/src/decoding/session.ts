// A GPT's decoding session, what @tx/generate drives: feed(ids) appends ids
// and returns the logits of the token after them.
//
// The session holds the history and the context policy; a Decoder (@tx/core)
// holds the forward's state. Within the context (blockSize tokens) each feed
// gives the decoder only the new ids. Past it, this is the one place that
// decides what the next token sees (contextOverflow):
//   'crop' (default): the last blockSize ids, recomputed at every step, as
//       nanoGPT's generate does: greedy output equals nanoGPT's sample.py.
//   'restart': a fresh cache from the last 3/4 of the context, recomputed in
//       one pass, then filled step by step until full again: each token sees
//       3/4 to all of the context, at a few positions' work per token.
// A GPT's keys are only valid at the positions they were computed at (learned
// position embeddings), so sliding a full cache would be wrong; a model with
// relative positions (RoPE, ALiBi) could slide it exactly.
//
// Which decoder, in eval mode and without attention asked for: on wasm with
// @tx's kernels, @tx/core's FusedDecoder (one wasm call per feed, keys and
// values kept in wasm); on webgpu with @tx's WGSL kernels, its WebGPUDecoder
// (a few fused dispatches per layer, keys and values kept on the GPU); both
// read the model's layer description and weights. Else a TfjsDecoder (the
// model's forward with KV caches). If the fused one stops being usable (the
// model left eval mode, the kernels were turned off, the backend changed),
// the session goes on with a TfjsDecoder, recomputing.
//
// The session knows its model only through SessionModel, the few members it
// uses, so models/gpt.ts imports this file and not the other way round.
import { FusedDecoder, ValueError, WebGPUDecoder, type Decoder, type DecoderLayout, type DecoderWeights, type DecodingSession, type SessionOptions, type StepOutput } from '@tx/core';
import { checkIds } from './ids.js';
import { TfjsDecoder, type ForwardModel } from './tfjs-decoder.js';

/** What a GPTSession needs of its model (GPT has it): its vocabulary and context, its forward with KV caches, and its layer description and weights for the fused decoder. */
export interface SessionModel extends ForwardModel {
  readonly config: { readonly vocabSize: number; readonly blockSize: number };
  /** Training mode (a Module's): dropout makes the fused decoder's forward differ, so a session leaves it. */
  readonly training: boolean;
  /** The model's layers as the fused decoders read them (a model without one always decodes through tfjs). */
  decoderLayout?(): DecoderLayout;
  /** The weights by their place in the layout, or null where the fused path may not run (training mode). */
  decoderWeights(): DecoderWeights | null;
}

/** A GPT's decoding session (the DecodingSession of `@tx/core`): feed ids, get the next token's logits, with a KV cache and a context-overflow policy. */
export class GPTSession implements DecodingSession {
  private history: number[] = [];
  private decoder: Decoder;

  constructor(
    private readonly model: SessionModel,
    private readonly options: SessionOptions = {},
  ) {
    const weights = options.cache !== false && options.attention !== true && model.decoderLayout ? model.decoderWeights() : null;
    const layout = weights && model.decoderLayout!();
    this.decoder = (layout && weights && (FusedDecoder.create(layout, weights) ?? WebGPUDecoder.create(layout, weights))) || this.tfjsDecoder();
  }

  /** All ids fed so far. */
  get ids(): readonly number[] {
    return this.history;
  }

  async feed(ids: readonly number[]): Promise<StepOutput> {
    const { vocabSize: V, blockSize: T } = this.model.config;
    if (ids.length === 0) throw new ValueError('GPTSession.feed: needs at least one id');
    checkIds(ids, V, 'GPTSession.feed');
    this.history.push(...ids);
    // training, not decoderWeights(): the fused decoder holds its weights already, and this runs every token
    const left = isFused(this.decoder) && !(this.decoder.usable() && !this.model.training);
    if (left) {
      this.decoder.dispose();
      this.decoder = this.tfjsDecoder();
    }
    const cached = this.options.cache !== false;
    if (cached && !left && this.decoder.position + ids.length <= T) return this.decoder.feed(ids);
    // Recompute a window of the history from position 0: past the context, without a cache, or on a new decoder.
    const keep = cached && this.options.contextOverflow === 'restart' ? Math.min(T, Math.max(ids.length, Math.ceil(0.75 * T))) : T;
    const held = this.decoder.position;
    this.decoder.position = 0;
    try {
      return await this.decoder.feed(this.history.slice(-keep));
    } catch (err) {
      this.decoder.position = held; // a decoder checks before it writes: its caches still hold what they held
      throw err;
    }
  }

  fork(): GPTSession {
    // The same options and history, with a copy of the decoder (not the constructor, which would make a new one).
    const copy = Object.create(GPTSession.prototype) as GPTSession;
    return Object.assign(copy, { model: this.model, options: this.options, history: [...this.history], decoder: this.decoder.clone() });
  }

  dispose(): void {
    this.decoder.dispose();
  }

  private tfjsDecoder(): TfjsDecoder {
    return new TfjsDecoder(this.model, { cache: this.options.cache !== false, attention: this.options.attention === true });
  }
}

/** A fused decoder (wasm or WebGPU): it holds the model's weights as they were lent, and says when it stops being usable (kernels off, backend changed). */
function isFused(decoder: Decoder): decoder is FusedDecoder | WebGPUDecoder {
  return decoder instanceof FusedDecoder || decoder instanceof WebGPUDecoder;
}
