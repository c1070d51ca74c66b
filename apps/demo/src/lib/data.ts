// The data every view draws: the JSON that `tx inspect --json` prints.
//
//   { tokens: [...], ids: [...], attention: [layer][head][query][key],
//     logits?: [[...]], loss?: x, cross?: [layer][head][query][key],
//     encoderAttention?: [layer][head][query][key], sourceTokens?: [...] }
//
// parseInspect checks the shape once, so that views can index without guards.

export type Attention = number[][][][];

export interface InspectData {
  tokens: string[];
  ids: number[];
  /** Self-attention (decoder's, for an encoder-decoder): [layer][head][query][key]. */
  attention: Attention;
  logits?: number[][];
  loss?: number;
  /** Encoder-decoder only: decoder queries over encoder keys, [layer][head][target][source]. */
  cross?: Attention;
  encoderAttention?: Attention;
  /** Encoder-decoder only: the source tokens (keys of `cross`). */
  sourceTokens?: string[];
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
  if (o.encoderAttention !== undefined) {
    const n = data.sourceTokens?.length ?? (o.encoderAttention as number[][][][])[0]?.[0]?.length ?? 0;
    data.encoderAttention = checkAttention(o.encoderAttention, n, n, '"encoderAttention"');
  }
  return data;
}

export function shape(a: Attention): { layers: number; heads: number; queries: number; keys: number } {
  return { layers: a.length, heads: a[0].length, queries: a[0][0].length, keys: a[0][0][0]?.length ?? 0 };
}

/** How a token reads on screen: spaces and newlines made visible. */
export function displayToken(t: string): string {
  if (t === ' ') return '␣';
  return t.replace(/\n/g, '⏎').replace(/\t/g, '⇥').replace(/^ /, '·');
}
