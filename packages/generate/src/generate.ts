// Generation, one token at a time:
//
//   ids -> session.feed -> logits -> processors -> pick (greedy or sample) -> ids
//
// streamTokens() yields each token as it is chosen, with its text (UTF-8 safe),
// its log-probability and the most likely alternatives; generate() collects
// the stream. Sampling draws from a seeded Rng, so the same seed gives the
// same text.
//
// Nothing here needs tfjs: logits are Float32Arrays, @tx/core gives only types,
// its Rng and its ValueError, imported from '@tx/core/rng' and '@tx/core/errors'
// (files that import no tfjs), so any model that returns logits can be decoded
// without loading a backend.
import { ValueError } from '@tx/core/errors';
import { Rng } from '@tx/core/rng';
import type { ContextOverflow, LanguageModel } from '@tx/core';
import { applyProcessors, argmax, repetitionPenalty, softmax, topIndices, temperature as temperatureProcessor, topK as topKProcessor, topP as topPProcessor, type LogitsProcessor } from './processors.js';
import { streamingText, type TextDecoderLike } from './text.js';

/** Options of generate and streamTokens: length, the sampling rule (greedy, temperature, top-k, top-p), seed, stops. */
export interface GenerateOptions {
  /** Stop after this many new tokens (default 100). */
  maxNewTokens?: number;
  /** Always take the most likely token. */
  greedy?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  /** Your own processors, applied after the built-in ones. */
  processors?: LogitsProcessor[];
  /** Seed for sampling (default 1337). */
  seed?: number;
  /** Stop when one of these ids is produced (it is included in the output). */
  eosId?: number | number[];
  /** Stop when the text contains one of these strings. generate's text is cut before it; a stream has already given out the earlier tokens of a stop string that spans several. Needs a tokenizer. */
  stop?: string[];
  /** Turns ids into text for `text` fields and stop strings. */
  tokenizer?: TextDecoderLike;
  /** Use the model's KV cache (default true). */
  cache?: boolean;
  /** Past the model's context: 'crop' (default, nanoGPT's: the last blockSize ids, recomputed) or 'restart' (faster). */
  contextOverflow?: ContextOverflow;
  /** How many alternatives to report per token (default 5). */
  topN?: number;
  /** Report each step's attention probabilities. */
  attention?: boolean;
  signal?: AbortSignal;
}

/** One of the likeliest tokens at a step, with its probability (ids only: the stream had no tokenizer). */
export interface IdChoice {
  id: number;
  /** Probability under the distribution sampled from (after temperature, top-k, top-p). */
  p: number;
}

/** One of the likeliest tokens at a step, with its text and probability. */
export interface TokenChoice extends IdChoice {
  text: string;
}

/**
 * One generated token of a stream without a tokenizer: its id, log-probability
 * and the likeliest alternatives, as ids. There is no `text`: pass `tokenizer`
 * to get GeneratedToken, which has it.
 */
export interface GeneratedId {
  id: number;
  logprob: number;
  top: IdChoice[];
  attention?: number[][][];
}

/** One generated token: its id, the text it completes, its log-probability and the likeliest alternatives. */
export interface GeneratedToken extends GeneratedId {
  /** The text this token completes (may be "" while a UTF-8 character is still incomplete). */
  text: string;
  top: TokenChoice[];
}

/** Why generation stopped: maxNewTokens reached, an EOS token, a stop string, or the abort signal. */
export type FinishReason = 'length' | 'eos' | 'stop' | 'aborted';

/** What generate returns without a tokenizer: the new ids, each token's details, why it stopped, and the speed. */
export interface GenerateIdsResult {
  /** Generated ids only, not the prompt's. */
  ids: number[];
  tokens: GeneratedId[];
  finishReason: FinishReason;
  tokensPerSecond: number;
}

/** What generate returns with a tokenizer: the new ids and their text, each token's details, why it stopped, and the speed. */
export interface GenerateResult extends GenerateIdsResult {
  text: string;
  tokens: GeneratedToken[];
}

/** GenerateOptions with a tokenizer: every token then has its text. */
export type GenerateTextOptions = GenerateOptions & { tokenizer: TextDecoderLike };

/** The processors implied by the options, in the usual order. */
export function processorsFor(options: GenerateOptions): LogitsProcessor[] {
  const chain: LogitsProcessor[] = [];
  if (options.repetitionPenalty !== undefined && options.repetitionPenalty !== 1) chain.push(repetitionPenalty(options.repetitionPenalty));
  if (!options.greedy) {
    if (options.temperature !== undefined && options.temperature !== 1) chain.push(temperatureProcessor(options.temperature));
    if (options.topK !== undefined) chain.push(topKProcessor(options.topK));
    if (options.topP !== undefined && options.topP < 1) chain.push(topPProcessor(options.topP));
  }
  return [...chain, ...(options.processors ?? [])];
}

/**
 * Generate token by token: an async iterator whose return value is the
 * FinishReason. With a tokenizer each token is a GeneratedToken (with `text`);
 * without one, a GeneratedId (ids only), so that no text is silently empty.
 */
export function streamTokens(model: LanguageModel, promptIds: readonly number[], options: GenerateTextOptions): AsyncGenerator<GeneratedToken, FinishReason>;
export function streamTokens(model: LanguageModel, promptIds: readonly number[], options?: GenerateOptions): AsyncGenerator<GeneratedId, FinishReason>;
export async function* streamTokens(
  model: LanguageModel,
  promptIds: readonly number[],
  options: GenerateOptions = {},
): AsyncGenerator<GeneratedId | GeneratedToken, FinishReason> {
  if (promptIds.length === 0) throw new ValueError('generate needs a prompt of at least one id (for a GPT, start with a boundary token)');
  if (options.stop?.length && !options.tokenizer) throw new ValueError('stop strings need a tokenizer');
  const maxNewTokens = options.maxNewTokens ?? 100;
  const eos = new Set(options.eosId === undefined ? [] : [options.eosId].flat());
  const processors = processorsFor(options);
  const rng = new Rng(options.seed ?? 1337);
  const topN = options.topN ?? 5;
  const tokenizer = options.tokenizer;
  const stream = tokenizer ? streamingText(tokenizer) : null;

  const session = model.startSession({ cache: options.cache ?? true, attention: options.attention ?? false, contextOverflow: options.contextOverflow });
  const ids = [...promptIds];
  let text = '';
  try {
    let step = await session.feed(promptIds);
    for (let n = 0; n < maxNewTokens; n++) {
      if (options.signal?.aborted) return 'aborted';
      const logits = applyProcessors(processors, Float32Array.from(step.logits), { ids });
      const probs = softmax(logits);
      const id = options.greedy ? argmax(logits) : sample(probs, rng);
      ids.push(id);
      const logprob = Math.log(probs[id]);
      const topIds = topIndices(probs, topN);
      if (!tokenizer || !stream) {
        yield { id, logprob, top: topIds.map((alt) => ({ id: alt, p: probs[alt] })), attention: step.attention };
      } else {
        const top = topIds.map((alt) => ({ id: alt, text: tokenizer.decode([alt]), p: probs[alt] }));
        const piece = stream.push(id);
        text += piece;
        // A stop string not found before must end in this piece: search only from where it could start.
        const before = text.length - piece.length;
        const stopAt = options.stop?.map((s) => text.indexOf(s, Math.max(0, before - s.length + 1))).filter((i) => i >= 0);
        if (stopAt?.length) {
          const cut = Math.min(...stopAt);
          yield { id, text: piece.slice(0, Math.max(0, cut - before)), logprob, top, attention: step.attention };
          return 'stop';
        }
        yield { id, text: piece, logprob, top, attention: step.attention };
      }
      if (eos.has(id)) return 'eos';
      if (n + 1 < maxNewTokens) step = await session.feed([id]);
    }
    return 'length';
  } finally {
    session.dispose();
  }
}

/** Generate and collect: the ids (new ones only), the text (with a tokenizer), each token, and why it stopped. */
export function generate(model: LanguageModel, promptIds: readonly number[], options: GenerateTextOptions): Promise<GenerateResult>;
export function generate(model: LanguageModel, promptIds: readonly number[], options?: GenerateOptions): Promise<GenerateIdsResult>;
export async function generate(model: LanguageModel, promptIds: readonly number[], options: GenerateOptions = {}): Promise<GenerateIdsResult | GenerateResult> {
  const t0 = performance.now();
  const tokens: Array<GeneratedId | GeneratedToken> = [];
  const iterator = streamTokens(model, promptIds, options);
  let result = await iterator.next();
  while (!result.done) {
    tokens.push(result.value);
    result = await iterator.next();
  }
  const seconds = (performance.now() - t0) / 1000;
  const ids = tokens.map((t) => t.id);
  const done = { ids, tokens, finishReason: result.value, tokensPerSecond: tokens.length / seconds };
  if (!options.tokenizer) return done;
  // The whole text, decoded at once (a stream may hold back its last character), cut before the first stop string:
  // one that spans tokens began in pieces the stream had already given out.
  const whole = options.tokenizer.decode(ids);
  const cut = Math.min(...(options.stop ?? []).map((s) => whole.indexOf(s)).filter((i) => i >= 0), whole.length);
  const text = whole.slice(0, cut);
  return { ...done, text, tokens: tokens as GeneratedToken[] };
}

/** Draw an index with probability probs[i] (probs sums to 1), using one rng.random() in [0, 1): @tx/core's Rng, or any source with that method. */
export function sample(probs: ArrayLike<number>, rng: { random(): number }): number {
  let u = rng.random();
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i];
    if (u < 0) return i;
  }
  // Rounding left a sliver: return the last token with any probability.
  for (let i = probs.length - 1; i >= 0; i--) if (probs[i] > 0) return i;
  return 0;
}
