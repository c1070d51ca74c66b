// Byte-level helpers for Hugging Face files: GPT-2's bytes_to_unicode, by
// which byte-level vocabularies spell bytes with printable characters ("Ġ" is
// the space byte), and GPT-2's older vocab.json + merges.txt pair as the
// tokenizer.json it amounts to. Reading a tokenizer.json is huggingface/'s
// job (huggingface/tokenizer.ts).
import { TokenizerError } from './errors.js';
import { expectObject, parseJSON } from './validate.js';

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
