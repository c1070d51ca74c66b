// Reading a Hugging Face tokenizer.json of the byte-level BPE kind (GPT-2,
// RoBERTa, Llama 3, ...). Its vocabulary spells bytes with printable
// characters (GPT-2's bytes_to_unicode: "Ġ" is the space byte), merges are
// "left right" strings (or [left, right] pairs in newer files), the split
// pattern comes from the pre-tokenizer, and added tokens become our special
// tokens. Anything that would change the text before or after the BPE
// (normalizers, prefix spaces, subword prefixes) is refused with a clear
// message rather than silently tokenized differently. Every field is
// checked before use (validate.ts): a malformed file is a TokenizerError
// naming the field.
import { TokenizerError } from './errors.js';
import { GPT2_PATTERN } from './patterns.js';
import { describeValue, expectArray, expectId, expectObject, expectString, idLimit, parseJSON } from './validate.js';
import type { BpeTokenizerSpec } from './bpe-model.js';

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

/**
 * GPT-2's older pair of files, vocab.json (token -> id) and merges.txt (one
 * "left right" merge a line after a "#version" header), as the tokenizer.json
 * they amount to: a byte-level BPE with GPT-2's split pattern. Tokens named in
 * `specialTokens` (default: "<|endoftext|>" when the vocabulary has it) are
 * special, as GPT-2's tokenizer.json marks them.
 */
export function huggingFaceFromVocabAndMerges(vocabText: string, mergesText: string, specialTokens?: readonly string[]): Record<string, unknown> {
  const vocab = expectObject(parseJSON(vocabText, 'vocab.json'), 'vocab.json');
  const merges = mergesText.split(/\r?\n/).filter((line, i) => line.trim() !== '' && !(i === 0 && line.startsWith('#version')));
  merges.forEach((line, i) => {
    if (line.split(' ').length !== 2) throw new TokenizerError(`merges.txt line ${i + 2}: expected "left right", found ${JSON.stringify(line)}`);
  });
  const specials = specialTokens ?? (Object.hasOwn(vocab, '<|endoftext|>') ? ['<|endoftext|>'] : []);
  const added = specials.map((content) => {
    if (!Object.hasOwn(vocab, content)) throw new TokenizerError(`vocab.json: special token ${JSON.stringify(content)} is not in the vocabulary`);
    return { id: vocab[content], content, special: true };
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return { added_tokens: added, normalizer: null, pre_tokenizer: byteLevel, model: { type: 'BPE', vocab, merges } };
}

export function parseHuggingFace(input: string | object): BpeTokenizerSpec {
  const json = expectObject(typeof input === 'string' ? parseJSON(input, 'tokenizer.json text') : input, 'tokenizer.json');
  const model = json.model !== null && typeof json.model === 'object' ? (json.model as Record<string, unknown>) : null;
  if (model?.type !== 'BPE') {
    throw new TokenizerError(`expected a Hugging Face tokenizer.json with model.type "BPE", a vocab and merges, found model.type ${describeValue(model?.type)}`);
  }
  const modelVocab = expectObject(model.vocab, 'model.vocab');
  const modelMerges = expectArray(model.merges, 'model.merges');
  if (model.continuing_subword_prefix || model.end_of_word_suffix) {
    throw new TokenizerError(`expected a byte-level BPE without subword prefix or suffix, found continuing_subword_prefix ${describeValue(model.continuing_subword_prefix)}, end_of_word_suffix ${describeValue(model.end_of_word_suffix)}`);
  }
  if (model.ignore_merges !== undefined && typeof model.ignore_merges !== 'boolean') {
    throw new TokenizerError(`model.ignore_merges: expected true or false, found ${describeValue(model.ignore_merges)}`);
  }
  const norm = json.normalizer as { type?: unknown; normalizers?: unknown } | null | undefined;
  if (norm && !(norm.type === 'Sequence' && Array.isArray(norm.normalizers) && norm.normalizers.length === 0)) {
    throw new TokenizerError(`expected a tokenizer.json without a normalizer (byte-level BPE sees the raw text), found normalizer ${describeValue(norm.type)}`);
  }

  // Maps, not the parsed objects: a token named "constructor" or "__proto__" is just a token.
  const entries = Object.entries(modelVocab);
  const addedTokens = json.added_tokens === undefined ? [] : expectArray(json.added_tokens, 'added_tokens');
  const limit = idLimit(entries.length + addedTokens.length);
  const idOf = new Map(entries.map(([token, id]) => [token, expectId(id, `model.vocab[${JSON.stringify(token)}]`, limit)]));

  const inverse = new Map(bytesToUnicode().map((ch, b) => [ch, b]));
  const toBytes = (token: string, id: number): Uint8Array => {
    const chars = Array.from(token);
    return Uint8Array.from(chars, (ch) => {
      const b = inverse.get(ch);
      if (b === undefined) throw new TokenizerError(`vocab entry ${JSON.stringify(token)} (id ${id}): expected byte-level characters (GPT-2's bytes_to_unicode), found ${JSON.stringify(ch)}`);
      return b;
    });
  };

  const specials = new Map<string, number>();
  addedTokens.forEach((t, i) => {
    const token = expectObject(t, `added_tokens[${i}]`);
    specials.set(expectString(token.content, `added_tokens[${i}].content`, true), expectId(token.id, `added_tokens[${i}].id`, limit));
  });
  const specialIds = new Set(specials.values());

  const vocab: (Uint8Array | null)[] = [];
  for (const [token, id] of idOf) {
    if (specialIds.has(id)) continue;
    while (vocab.length <= id) vocab.push(null);
    vocab[id] = toBytes(token, id);
  }

  const merges = modelMerges.map((m, i): [number, number, number] => {
    let pair: [string, string];
    if (typeof m === 'string') pair = splitMerge(m, i);
    else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') pair = [m[0], m[1]];
    else throw new TokenizerError(`model.merges[${i}]: expected "left right" or [left, right], found ${describeValue(m)}`);
    const [left, right] = pair;
    const ids = [idOf.get(left), idOf.get(right), idOf.get(left + right)];
    if (ids.includes(undefined)) {
      throw new TokenizerError(`model.merges[${i}]: expected "${left}", "${right}" and "${left + right}" in the vocab, found ${ids.map((x) => (x === undefined ? 'missing' : x)).join(', ')}`);
    }
    return ids as [number, number, number];
  });

  const pre = json.pre_tokenizer === undefined || json.pre_tokenizer === null ? null : expectObject(json.pre_tokenizer, 'pre_tokenizer');
  return {
    pattern: splitPattern(pre),
    vocab,
    merges,
    ignoreMerges: (model.ignore_merges as boolean | undefined) ?? false,
    specialTokens: Object.fromEntries(specials),
  };
}

const short = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}...` : text);

function splitMerge(merge: string, i: number): [string, string] {
  const at = merge.indexOf(' ', 1);
  if (at === -1) throw new TokenizerError(`model.merges[${i}]: expected "left right", found ${JSON.stringify(merge)}`);
  return [merge.slice(0, at), merge.slice(at + 1)];
}

/** The split pattern a pre-tokenizer amounts to: ByteLevel's own regex (GPT-2's), or a Split's regex before a ByteLevel. */
function splitPattern(pre: Record<string, unknown> | null): string {
  if (pre === null) return '[\\s\\S]+';
  const steps = pre.type === 'Sequence' ? expectArray(pre.pretokenizers ?? [], 'pre_tokenizer.pretokenizers') : [pre];
  let pattern: string | null = null;
  steps.forEach((s, i) => {
    const step = expectObject(s, pre.type === 'Sequence' ? `pre_tokenizer.pretokenizers[${i}]` : 'pre_tokenizer');
    if (step.type === 'ByteLevel') {
      if (step.add_prefix_space) throw new TokenizerError('expected a ByteLevel pre-tokenizer with add_prefix_space false, found true (a space would be added to the text)');
      if (step.use_regex ?? true) {
        if (pattern !== null) throw new TokenizerError('expected one split pattern, found a Split and a ByteLevel that also splits (use_regex true)');
        pattern = GPT2_PATTERN;
      }
    } else if (step.type === 'Split') {
      const regex = (step.pattern as { Regex?: unknown } | null | undefined)?.Regex;
      if (typeof regex !== 'string' || step.behavior !== 'Isolated' || step.invert || pattern !== null) {
        throw new TokenizerError(`expected one Split pre-tokenizer with a Regex pattern, behavior "Isolated" and no invert, found ${short(JSON.stringify(step))}`);
      }
      pattern = regex;
    } else {
      throw new TokenizerError(`expected ByteLevel or Split pre-tokenizers, found ${describeValue(step.type)}`);
    }
  });
  return pattern ?? '[\\s\\S]+';
}
