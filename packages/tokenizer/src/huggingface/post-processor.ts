// The post-processor: what encode adds around the ids of the text when
// special tokens are asked for (Hugging Face's add_special_tokens, on by
// default). Llama 2's TemplateProcessing says single "<s> $A" (a <s> before
// the text) and pair "<s> $A <s> $B"; Llama 3's adds <|begin_of_text|>.
// Supported: TemplateProcessing, ByteLevel (it changes offsets only, so no
// ids) and Sequence; without one, a pair is its two texts' ids end to end.
import { TokenizerError } from '../errors.js';
import { describeValue, expectArray, expectId, expectObject } from '../validate.js';

/** Ids of the first text and of the second (null: a single text) -> the ids encode returns. */
export type PostProcessor = (a: number[], b: number[] | null) => number[];

const SUPPORTED = 'TemplateProcessing, ByteLevel, Sequence';
const concat: PostProcessor = (a, b) => (b ? a.concat(b) : a);

/** The post-processor a tokenizer.json's `post_processor` field describes; ids at most idMax. */
export function parsePostProcessor(json: unknown, idMax: number, where = 'post_processor'): PostProcessor {
  if (json === null || json === undefined) return concat;
  const p = expectObject(json, where);
  switch (p.type) {
    case 'ByteLevel':
      return concat;
    case 'Sequence': {
      const steps = expectArray(p.processors, `${where}.processors`).map((s, i) => parsePostProcessor(s, idMax, `${where}.processors[${i}]`));
      const templates = steps.filter((s) => s !== concat);
      if (templates.length > 1) throw new TokenizerError(`${where}.processors: expected at most one TemplateProcessing, found ${templates.length}`);
      return templates[0] ?? concat;
    }
    case 'TemplateProcessing': {
      const specials = expectObject(p.special_tokens ?? {}, `${where}.special_tokens`);
      const single = template(p.single, specials, `${where}.single`, idMax);
      const pair = p.pair === undefined || p.pair === null ? null : template(p.pair, specials, `${where}.pair`, idMax);
      return (a, b) => {
        const pieces = b === null ? single : pair;
        if (pieces === null) throw new TokenizerError(`${where}.pair: expected a pair template to encode two texts, found none`);
        // concat copies each part in one go (a push per id was a fifth of Llama 2's encode time)
        return ([] as number[]).concat(...pieces.map((piece) => (piece === 'A' ? a : piece === 'B' ? b! : piece)));
      };
    }
    default:
      throw new TokenizerError(`${where}.type: expected a supported post-processor (${SUPPORTED}), found ${describeValue(p.type)}`);
  }
}

/** A template as 'A', 'B' (the texts' ids) or the ids of a special token. */
function template(json: unknown, specials: Record<string, unknown>, where: string, idMax: number): ('A' | 'B' | number[])[] {
  return expectArray(json, where).map((entry, i) => {
    const e = expectObject(entry, `${where}[${i}]`);
    if (e.Sequence !== undefined) {
      const id = expectObject(e.Sequence, `${where}[${i}].Sequence`).id;
      if (id !== 'A' && id !== 'B') throw new TokenizerError(`${where}[${i}].Sequence.id: expected "A" or "B", found ${describeValue(id)}`);
      return id;
    }
    const name = expectObject(e.SpecialToken, `${where}[${i}].SpecialToken`).id;
    if (typeof name !== 'string' || !Object.hasOwn(specials, name)) {
      throw new TokenizerError(`${where}[${i}].SpecialToken.id: expected a token of special_tokens (${Object.keys(specials).join(', ') || 'none'}), found ${describeValue(name)}`);
    }
    const special = expectObject(specials[name], `special_tokens[${JSON.stringify(name)}]`);
    return expectArray(special.ids, `special_tokens[${JSON.stringify(name)}].ids`).map((id, j) => expectId(id, `special_tokens[${JSON.stringify(name)}].ids[${j}]`, idMax));
  });
}
