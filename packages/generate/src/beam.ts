// Beam search: keep the `beams` best partial sequences by total log-probability;
// at each step extend every one by its `beams` best next tokens and keep the
// best `beams` of those. A sequence that emits EOS is finished and scored
// with a length penalty (GNMT / HF style): score = logprob / length^alpha.
// It stops when no live beam can still beat the worst finished one we keep.
import { ValueError } from '@tx/core/errors';
import type { DecodingSession, LanguageModel } from '@tx/core';
import { logSoftmax, topIndices } from './processors.js';

/** Options of beamSearch: the number of beams, the length, the EOS id and the length penalty. */
export interface BeamSearchOptions {
  beams: number;
  maxNewTokens?: number;
  eosId?: number;
  /** alpha: > 0 favours longer sequences, < 0 shorter ones (default 1, as HF). */
  lengthPenalty?: number;
  cache?: boolean;
}

/** What beamSearch returns: the best sequence's new ids, its log-probability and its score. */
export interface BeamResult {
  /** The best sequence's new ids (EOS included when it ended on one). */
  ids: number[];
  /** Its total log-probability and its length-penalised score. */
  logprob: number;
  score: number;
  /** All finished (or, at the length limit, live) hypotheses, best first. */
  hypotheses: Array<{ ids: number[]; logprob: number; score: number }>;
}

interface Beam {
  ids: number[];
  logprob: number;
  session: DecodingSession;
  next: Float64Array; // log-probabilities of the token after ids
}

/** Beam search: keep the `beams` best partial sequences by log-probability; return the best one, its score length-penalised. */
export async function beamSearch(model: LanguageModel, promptIds: readonly number[], options: BeamSearchOptions): Promise<BeamResult> {
  const { beams: width, eosId } = options;
  if (!Number.isInteger(width) || width < 1) throw new ValueError(`beams must be an integer >= 1, got ${width}`);
  const maxNewTokens = options.maxNewTokens ?? 100;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new ValueError(`maxNewTokens must be an integer >= 1, got ${maxNewTokens}`);
  const alpha = options.lengthPenalty ?? 1;
  const score = (logprob: number, length: number) => logprob / Math.max(length, 1) ** alpha;

  const root = model.startSession({ cache: options.cache ?? true });
  let live: Beam[] = [{ ids: [], logprob: 0, session: root, next: new Float64Array(0) }];
  let nextLive: Beam[] = [];
  const finished: Array<{ ids: number[]; logprob: number; score: number }> = [];
  try {
    live[0].next = logSoftmax((await root.feed(promptIds)).logits);
    for (let step = 0; step < maxNewTokens && live.length > 0; step++) {
      // Every live beam's `width` best continuations; then the best `width` overall.
      const candidates: Array<{ parent: Beam; id: number; logprob: number }> = [];
      for (const beam of live) {
        for (const id of topIndices(beam.next, width)) candidates.push({ parent: beam, id, logprob: beam.logprob + beam.next[id] });
      }
      candidates.sort((a, b) => b.logprob - a.logprob);
      const chosen = candidates.slice(0, width);

      nextLive = [];
      for (const c of chosen) {
        const ids = [...c.parent.ids, c.id];
        if (c.id === eosId) {
          finished.push({ ids, logprob: c.logprob, score: score(c.logprob, ids.length) });
          continue;
        }
        if (step + 1 === maxNewTokens) {
          finished.push({ ids, logprob: c.logprob, score: score(c.logprob, ids.length) });
          continue;
        }
        const beam: Beam = { ids, logprob: c.logprob, session: c.parent.session.fork(), next: new Float64Array(0) };
        nextLive.push(beam);
        beam.next = logSoftmax((await beam.session.feed([c.id])).logits);
      }
      for (const beam of live) beam.session.dispose();
      live = nextLive;
      nextLive = [];

      finished.sort((a, b) => b.score - a.score);
      finished.splice(width);
      // Done when we have `width` finished hypotheses and no live one can catch up:
      // log-probabilities only fall, so a live beam's best possible score is its
      // current log-probability at the most favourable length.
      if (finished.length === width) {
        const worstKept = finished[width - 1].score;
        const bestPossible = Math.max(...live.map((b) => bestScoreReachable(b.logprob, b.ids.length, maxNewTokens, alpha)));
        if (!(bestPossible > worstKept)) break;
      }
    }
  } finally {
    for (const beam of [...live, ...nextLive]) beam.session.dispose();
  }
  finished.sort((a, b) => b.score - a.score);
  const best = finished[0];
  return { ids: best.ids, logprob: best.logprob, score: best.score, hypotheses: finished };
}

function bestScoreReachable(logprob: number, length: number, maxLength: number, alpha: number): number {
  // logprob <= 0 and only decreases; dividing by a larger length^alpha (alpha > 0) raises it.
  const lengths = alpha > 0 ? [maxLength] : [length + 1];
  return Math.max(...lengths.map((l) => logprob / Math.max(l, 1) ** alpha));
}
