// The two-layer story of the coref model, read from its attention: on layer
// 0, "it" gathers the adjective ("tired"), several heads adding their light;
// on layer 1, the coref head points to the noun the adjective fits
// ("animal"). The stepper of the attention view tells it, one layer a step.
import type { Attention } from './data.js';
import { brightestOther } from './sentence.js';

/** One step of the story: the layer, the heads to show, the word they light most, and the sentence that says so. */
export interface StoryStep {
  layer: number;
  heads: number[];
  /** The heads that light the word most (shown first in the matrix and the formula). */
  lit: number[];
  key: number;
  text: string;
}

/**
 * The story for the query token `query` (the pronoun): layer 0's light summed
 * over heads, its brightest other word and the heads that light it most (at
 * least 0.2); then the pointer head's brightest other word. A word the
 * model has never seen (`unknown`) is named as such: light on it means nothing.
 */
export function twoLayerStory(attention: Attention, tokens: readonly string[], query: number, pointer: [number, number], unknown: readonly boolean[] = []): StoryStep[] {
  const first = attention[0];
  const T = tokens.length;
  const summed = Array.from({ length: T }, (_, j) => first.reduce((s, head) => s + head[query][j], 0));
  const gathered = brightestOther(summed, query);
  const adding = first.flatMap((head, hd) => (brightestOther(head[query], query) === gathered && head[query][gathered] >= 0.2 ? [hd] : []));
  const headsText = adding.length > 1 ? ` (heads ${adding.slice(0, -1).join(', ')} and ${adding.at(-1)} adding their light)` : adding.length === 1 ? ` (head ${adding[0]})` : '';
  const [layer, head] = pointer;
  const pointed = brightestOther(attention[layer][head][query], query);
  const it = tokens[query];
  const name = (j: number) => `“${tokens[j]}”${unknown[j] ? ' (a word it has never seen: that means nothing)' : ''}`;
  return [
    { layer: 0, heads: first.map((_, hd) => hd), lit: adding, key: gathered, text: `layer 0: “${it}” gathers ${name(gathered)}${headsText}` },
    { layer, heads: [head], lit: [head], key: pointed, text: `layer ${layer}: the coref head points to ${name(pointed)}` },
  ];
}
