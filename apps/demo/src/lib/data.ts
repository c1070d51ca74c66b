// The data every view draws: the JSON that `tx inspect --json` prints.
//
//   { tokens: [...], ids: [...], attention: [layer][head][query][key],
//     logits?: [[...]], loss?: x, cross?: [layer][head][query][key],
//     encoderAttention?: [layer][head][query][key], sourceTokens?: [...],
//     pronoun?: i, referent?: { index, token, p }, corefHead?: [layer, head] }
//
// The last three are a coref model's (`tx inspect` on a `tx train --task
// coref` checkpoint): the pronoun's position, what it refers to, and the
// attention head whose light from the pronoun is that answer.
//
// parseInspect checks the shape once, so that views can index without guards.
import type { Thumbnails } from './downsample.js';
import type { CorefVerdict } from './honesty.js';

/** One query's weights over the keys: a plain array (JSON), or a view into a tensor's data. */
export type Row = ArrayLike<number>;

/** [layer][head][query][key]. A GPT inspected in the page holds only the layer shown (InspectData.layer); the others are empty ([]). */
export type Attention = Row[][][];

export interface InspectData {
  tokens: string[];
  ids: number[];
  /** Self-attention (decoder's, for an encoder-decoder): [layer][head][query][key]. */
  attention: Attention;
  /** The one layer `attention` holds, when the others were not read (a GPT in the page); absent: every layer. */
  layer?: number;
  /** Every layer x head as a small pooled image, for the grid (a GPT's are pooled on the device). */
  thumbnails?: Thumbnails;
  /** Grouped-query attention (a Llama): per query head, the KV head it shares (`tx inspect --json` writes the same field). */
  kvHeads?: number[];
  /** Tokens left out at the start of a text longer than the page reads. */
  dropped?: number;
  logits?: number[][];
  loss?: number;
  /** Encoder-decoder only: decoder queries over encoder keys, [layer][head][target][source]. */
  cross?: Attention;
  encoderAttention?: Attention;
  /** Encoder-decoder only: the source tokens (keys of `cross`). */
  sourceTokens?: string[];
  /** Coref model only: the pronoun's index in tokens. */
  pronoun?: number;
  /** Coref model only: the word the pronoun refers to, and the probability (the coref head's weight on it). */
  referent?: { index: number; token: string; p: number };
  /** Coref model only: [layer, head] whose attention from the pronoun is the answer. */
  corefHead?: [number, number];
  /** Per token: a word the model has never seen (its text is kept in `tokens`; the model read it as <unk>). */
  unknownAt?: boolean[];
  /** Coref model in the page: the answer with what qualifies it (lib/honesty.ts). */
  verdict?: CorefVerdict;
  /** A note on the text the reader should see beside the answer (the Winograd pair's). */
  note?: string | null;
  /** How many words the model knows, for the qualifiers. */
  knownWords?: number;
}

export class InspectFormatError extends Error {}

function checkAttention(a: unknown, rows: number, cols: number, what: string): Attention {
  if (!Array.isArray(a) || a.length === 0) throw new InspectFormatError(`${what}: expected [layer][head][query][key], found ${JSON.stringify(a)?.slice(0, 40)}`);
  a.forEach((layer, l) => {
    if (!Array.isArray(layer) || layer.length === 0) throw new InspectFormatError(`${what}[${l}]: expected a list of heads`);
    if (layer.length !== (a[0] as unknown[]).length) throw new InspectFormatError(`${what}[${l}]: expected ${(a[0] as unknown[]).length} heads, found ${layer.length}`);
    layer.forEach((head: unknown, h: number) => {
      if (!Array.isArray(head) || head.length !== rows) throw new InspectFormatError(`${what}[${l}][${h}]: expected ${rows} query rows, found ${Array.isArray(head) ? head.length : typeof head}`);
      head.forEach((row: unknown, q: number) => {
        if (!Array.isArray(row) || row.length !== cols) throw new InspectFormatError(`${what}[${l}][${h}][${q}]: expected ${cols} keys, found ${Array.isArray(row) ? row.length : typeof row}`);
      });
    });
  });
  return a as Attention;
}

/** Validate `tx inspect --json` output (already parsed, or as text). */
export function parseInspect(input: unknown): InspectData {
  const raw = typeof input === 'string' ? (JSON.parse(input) as unknown) : input;
  if (typeof raw !== 'object' || raw === null) throw new InspectFormatError('expected a JSON object from `tx inspect --json`');
  const o = raw as Record<string, unknown>;
  if (!Array.isArray(o.tokens) || !o.tokens.every((t) => typeof t === 'string')) throw new InspectFormatError('"tokens": expected a list of strings');
  const tokens = o.tokens as string[];
  const ids = Array.isArray(o.ids) ? (o.ids as number[]) : tokens.map((_, i) => i);
  if (ids.length !== tokens.length) throw new InspectFormatError(`"ids": expected ${tokens.length} ids (one per token), found ${ids.length}`);
  const attention = checkAttention(o.attention, tokens.length, tokens.length, '"attention"');
  const data: InspectData = { tokens, ids, attention };
  if (Array.isArray(o.logits)) data.logits = o.logits as number[][];
  if (typeof o.loss === 'number') data.loss = o.loss;
  if (o.cross !== undefined) {
    const source = Array.isArray(o.sourceTokens) ? (o.sourceTokens as string[]) : null;
    const cols = source?.length ?? ((o.cross as number[][][][])[0]?.[0]?.[0]?.length ?? 0);
    data.cross = checkAttention(o.cross, tokens.length, cols, '"cross"');
    data.sourceTokens = source ?? Array.from({ length: cols }, (_, i) => String(i));
  }
  const index = (v: unknown, below: number, what: string): number => {
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) >= below) throw new InspectFormatError(`${what}: expected an index below ${below}, found ${JSON.stringify(v)}`);
    return v as number;
  };
  if (o.pronoun !== undefined) data.pronoun = index(o.pronoun, tokens.length, '"pronoun"');
  if (o.referent !== undefined) {
    const r = o.referent as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || typeof r.p !== 'number' || typeof r.token !== 'string') throw new InspectFormatError('"referent": expected { index, token, p }');
    data.referent = { index: index(r.index, tokens.length, '"referent.index"'), token: r.token, p: r.p };
  }
  if (o.corefHead !== undefined) {
    const c = o.corefHead;
    if (!Array.isArray(c) || c.length !== 2) throw new InspectFormatError('"corefHead": expected [layer, head]');
    data.corefHead = [index(c[0], attention.length, '"corefHead[0]"'), index(c[1], attention[0].length, '"corefHead[1]"')];
  }
  if (o.kvHeads !== undefined) {
    const heads = attention[0].length;
    if (!Array.isArray(o.kvHeads) || o.kvHeads.length !== heads || !o.kvHeads.every((k) => Number.isInteger(k) && k >= 0)) {
      throw new InspectFormatError(`"kvHeads": expected the KV head of each of the ${heads} query heads, found ${JSON.stringify(o.kvHeads)?.slice(0, 40)}`);
    }
    data.kvHeads = o.kvHeads as number[];
  }
  if (o.encoderAttention !== undefined) {
    const n = data.sourceTokens?.length ?? (o.encoderAttention as number[][][][])[0]?.[0]?.length ?? 0;
    data.encoderAttention = checkAttention(o.encoderAttention, n, n, '"encoderAttention"');
  }
  return data;
}

/** Layers, heads, queries and keys (heads and sizes from the first layer held). */
export function shape(a: Attention): { layers: number; heads: number; queries: number; keys: number } {
  const held = a.find((layer) => layer.length > 0) ?? [];
  return { layers: a.length, heads: held.length, queries: held[0]?.length ?? 0, keys: held[0]?.[0]?.length ?? 0 };
}

/** How many weights the page holds: a GPT's one layer, or every layer of JSON and the encoder. */
export function weightsHeld(a: Attention): number {
  let n = 0;
  for (const layer of a) for (const head of layer) for (const row of head) n += row.length;
  return n;
}

/** How a token reads on screen: spaces and newlines made visible. */
export function displayToken(t: string): string {
  if (t === ' ') return '␣';
  return t.replace(/\n/g, '⏎').replace(/\t/g, '⇥').replace(/^ /, '·');
}
