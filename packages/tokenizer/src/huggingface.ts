// Reading a Hugging Face tokenizer.json of the byte-level BPE kind (GPT-2,
// RoBERTa, Llama 3, ...). Its vocabulary spells bytes with printable
// characters (GPT-2's bytes_to_unicode: "Ġ" is the space byte), merges are
// "left right" strings (or [left, right] pairs in newer files), the split
// pattern comes from the pre-tokenizer, and added tokens become our special
// tokens. Anything that would change the text before or after the BPE
// (normalizers, prefix spaces, subword prefixes) is refused with a clear
// message rather than silently tokenized differently.
import { TokenizerError } from './errors.js';
import { GPT2_PATTERN } from './patterns.js';
import type { BpeTokenizerSpec } from './bpe.js';

/** GPT-2's byte -> printable character table, and its inverse. */
export function bytesToUnicode(): string[] {
  const table: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    table[b] = String.fromCodePoint(printable ? b : 256 + n++);
  }
  return table;
}

interface HfPreTokenizer {
  type?: string;
  add_prefix_space?: boolean;
  use_regex?: boolean;
  pattern?: { Regex?: string; String?: string };
  behavior?: string;
  invert?: boolean;
  pretokenizers?: HfPreTokenizer[];
}

interface HfTokenizerJson {
  model?: {
    type?: string;
    vocab?: Record<string, number>;
    merges?: (string | [string, string])[];
    ignore_merges?: boolean;
    continuing_subword_prefix?: string | null;
    end_of_word_suffix?: string | null;
    byte_fallback?: boolean;
  };
  normalizer?: { type?: string; normalizers?: unknown[] } | null;
  pre_tokenizer?: HfPreTokenizer | null;
  added_tokens?: { id: number; content: string }[];
}

export function parseHuggingFace(input: string | object): BpeTokenizerSpec {
  const json = (typeof input === 'string' ? JSON.parse(input) : input) as HfTokenizerJson;
  const model = json?.model;
  if (model?.type !== 'BPE' || typeof model.vocab !== 'object' || !Array.isArray(model.merges)) {
    throw new TokenizerError(`expected a Hugging Face tokenizer.json with model.type "BPE", a vocab and merges, found model.type ${JSON.stringify(model?.type)}`);
  }
  if (model.continuing_subword_prefix || model.end_of_word_suffix) {
    throw new TokenizerError(`expected a byte-level BPE without subword prefix or suffix, found continuing_subword_prefix ${JSON.stringify(model.continuing_subword_prefix)}, end_of_word_suffix ${JSON.stringify(model.end_of_word_suffix)}`);
  }
  const norm = json.normalizer;
  if (norm && !(norm.type === 'Sequence' && (norm.normalizers ?? []).length === 0)) {
    throw new TokenizerError(`expected a tokenizer.json without a normalizer (byte-level BPE sees the raw text), found normalizer ${JSON.stringify(norm.type)}`);
  }

  const inverse = new Map(bytesToUnicode().map((ch, b) => [ch, b]));
  const toBytes = (token: string, id: number): Uint8Array => {
    const chars = Array.from(token);
    return Uint8Array.from(chars, (ch) => {
      const b = inverse.get(ch);
      if (b === undefined) throw new TokenizerError(`vocab entry ${JSON.stringify(token)} (id ${id}): expected byte-level characters (GPT-2's bytes_to_unicode), found ${JSON.stringify(ch)}`);
      return b;
    });
  };

  const specialTokens: Record<string, number> = {};
  for (const t of json.added_tokens ?? []) specialTokens[t.content] = t.id;
  const specialIds = new Set(Object.values(specialTokens));

  const vocab: (Uint8Array | null)[] = [];
  for (const [token, id] of Object.entries(model.vocab)) {
    if (specialIds.has(id)) continue;
    while (vocab.length <= id) vocab.push(null);
    vocab[id] = toBytes(token, id);
  }

  const merges = model.merges.map((m, i): [number, number, number] => {
    const [left, right] = typeof m === 'string' ? splitMerge(m, i) : m;
    const a = model.vocab![left];
    const b = model.vocab![right];
    const merged = model.vocab![left + right];
    if (a === undefined || b === undefined || merged === undefined) {
      throw new TokenizerError(`merges[${i}]: expected "${left}", "${right}" and "${left + right}" in the vocab, found ${[a, b, merged].map((x) => (x === undefined ? 'missing' : x)).join(', ')}`);
    }
    return [a, b, merged];
  });

  return { pattern: splitPattern(json.pre_tokenizer ?? null), vocab, merges, ignoreMerges: model.ignore_merges ?? false, specialTokens };
}

function splitMerge(merge: string, i: number): [string, string] {
  const at = merge.indexOf(' ', 1);
  if (at === -1) throw new TokenizerError(`merges[${i}]: expected "left right", found ${JSON.stringify(merge)}`);
  return [merge.slice(0, at), merge.slice(at + 1)];
}

/** The split pattern a pre-tokenizer amounts to: ByteLevel's own regex (GPT-2's), or a Split's regex before a ByteLevel. */
function splitPattern(pre: HfPreTokenizer | null): string {
  if (pre === null) return '[\\s\\S]+';
  const steps = pre.type === 'Sequence' ? (pre.pretokenizers ?? []) : [pre];
  let pattern: string | null = null;
  for (const step of steps) {
    if (step.type === 'ByteLevel') {
      if (step.add_prefix_space) throw new TokenizerError('expected a ByteLevel pre-tokenizer with add_prefix_space false, found true (a space would be added to the text)');
      if (step.use_regex ?? true) {
        if (pattern !== null) throw new TokenizerError('expected one split pattern, found a Split and a ByteLevel that also splits (use_regex true)');
        pattern = GPT2_PATTERN;
      }
    } else if (step.type === 'Split') {
      const regex = step.pattern?.Regex;
      if (regex === undefined || step.behavior !== 'Isolated' || step.invert || pattern !== null) {
        throw new TokenizerError(`expected one Split pre-tokenizer with a Regex pattern, behavior "Isolated" and no invert, found ${JSON.stringify(step)}`);
      }
      pattern = regex;
    } else {
      throw new TokenizerError(`expected ByteLevel or Split pre-tokenizers, found ${JSON.stringify(step.type)}`);
    }
  }
  return pattern ?? '[\\s\\S]+';
}
