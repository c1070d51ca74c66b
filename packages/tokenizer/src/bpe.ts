// BpeTokenizer: a byte-level BPE like GPT-2's, tiktoken's and minbpe's
// RegexTokenizer. Text is cut into pieces by a split pattern, each piece is
// turned into UTF-8 bytes and merged into tokens by the BpeModel. Pieces
// repeat (" the", " and"), so their ids are cached (piece-encoder.ts): after
// warm-up most of encode() is the regex and one Map lookup per piece.
//
// Where the tokenizers come from: BpeTokenizer.train (our trainer),
// fromTiktoken (.tiktoken files, js-tiktoken's rank objects), fromJSON (our
// format, toJSON's output). fromHuggingFace reads a tokenizer.json into a
// HuggingFaceTokenizer (huggingface/), which follows Hugging Face's pipeline.
// The last three read files, which are data: their split pattern must be
// known or pass a static check (patterns.ts), unless the caller passes
// trustPattern; a pattern given by code to the constructor or train is code.
import { BpeModel, type BpeTokenizerSpec } from './bpe-model.js';
import { TokenizerError } from './errors.js';
import { checkSplitPattern, compilePattern, patternSource, type PatternName } from './patterns.js';
import { PieceEncoder } from './piece-encoder.js';
import { forEachPiece } from './scan.js';
import { buildSpecialRegex, encodeWithSpecials, specialRegex } from './special.js';
import type { BpeTokenizerJSON, TextStream, EncodeOptions, LoadOptions, Tokenizer } from './tokenizer.js';
import { fromBase64, toBase64, utf8Bytes } from './utf8.js';
import { parseTiktoken, type TiktokenRanks } from './tiktoken.js';
import { huggingFaceFromVocabAndMerges } from './huggingface.js';
import { HuggingFaceTokenizer } from './huggingface/tokenizer.js';
import { trainBpe, type TrainOptions } from './train.js';
import { MAX_ID, describeValue, expectArray, expectId, expectObject, expectTokenizerJSON, idLimit } from './validate.js';


/** Options of BpeTokenizer.fromTiktoken: the split pattern and special tokens. */
export interface FromTiktokenOptions extends LoadOptions {
  /** Split pattern; required for .tiktoken text, taken from js-tiktoken's rank objects otherwise. Checked like a file's. */
  pattern?: PatternName | string;
  /** Special tokens; replaces those of a rank object. */
  specialTokens?: Readonly<Record<string, number>>;
}

/** Byte-level BPE: encodes any text exactly as GPT-2's or cl100k's tokenizer does; trainable, and loadable from tiktoken and Hugging Face files. */
export class BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe';
  readonly vocabSize: number;
  readonly pattern: string;
  readonly specialTokens: Readonly<Record<string, number>>;
  private readonly model: BpeModel;
  private readonly ignoreMerges: boolean;
  private readonly splitter: RegExp;
  private readonly specialsById = new Map<number, Uint8Array>();
  private readonly allSpecials: RegExp | null;
  private readonly pieces: PieceEncoder;

  constructor(spec: BpeTokenizerSpec) {
    this.pattern = patternSource(spec.pattern);
    this.splitter = compilePattern(this.pattern);
    const merges = spec.merges ?? null;
    this.model = new BpeModel({ vocab: spec.vocab, merges });
    this.ignoreMerges = spec.ignoreMerges ?? merges === null;
    this.specialTokens = Object.freeze({ ...(spec.specialTokens ?? {}) });
    let size = spec.vocab.length;
    if (size > MAX_ID + 1) throw new TokenizerError(`expected at most ${MAX_ID + 1} tokens, found ${size}`);
    // vocabSize is one more than the largest id, special tokens included, so
    // every id encode() can return fits an embedding of vocabSize rows.
    const maxSpecial = idLimit(spec.vocab.length);
    for (const [name, id] of Object.entries(this.specialTokens)) {
      expectId(id, `special token ${JSON.stringify(name)}`, maxSpecial);
      if (name === '') throw new TokenizerError('expected special tokens to be non-empty strings, found ""');
      if (spec.vocab[id]) throw new TokenizerError(`special token ${JSON.stringify(name)}: expected an id no ordinary token uses, found ${id}, which is already a token`);
      if (this.specialsById.has(id)) throw new TokenizerError(`special token ${JSON.stringify(name)}: expected its own id, found ${id}, shared with another special token`);
      this.specialsById.set(id, utf8Bytes(name));
      size = Math.max(size, id + 1);
    }
    this.vocabSize = size;
    this.allSpecials = buildSpecialRegex(Object.keys(this.specialTokens));
    this.pieces = new PieceEncoder(this.model, this.ignoreMerges);
  }

  // ---- sources -------------------------------------------------------------

  /** Train a byte-level BPE on text (see TrainOptions). */
  static train(text: string, options: TrainOptions): BpeTokenizer {
    return new BpeTokenizer(trainBpe(text, options));
  }

  /**
   * From tiktoken ranks: the text of a `.tiktoken` file (`<base64> <rank>` per
   * line), or a js-tiktoken rank object (`js-tiktoken/ranks/gpt2`,
   * `js-tiktoken/ranks/cl100k_base`), whose pattern and special tokens are used
   * unless options say otherwise.
   */
  static fromTiktoken(ranks: string | TiktokenRanks, options: FromTiktokenOptions = {}): BpeTokenizer {
    const parsed = parseTiktoken(ranks);
    const where = options.pattern !== undefined ? 'options.pattern' : 'tiktoken pat_str';
    const pattern = options.pattern ?? parsed.pattern;
    if (pattern === undefined) {
      throw new TokenizerError("expected options.pattern ('gpt2', 'cl100k' or a regex source) with .tiktoken text, which carries no split pattern, found none");
    }
    const source = checkSplitPattern(pattern, { where, trustPattern: options.trustPattern });
    return new BpeTokenizer({ pattern: source, vocab: parsed.vocab, specialTokens: options.specialTokens ?? parsed.specialTokens ?? {} });
  }

  /**
   * From a Hugging Face tokenizer.json of a BPE model, as text or parsed:
   * byte-level (GPT-2, Llama 3, Qwen2, SmolLM) or sentencepiece-style (Llama 2,
   * TinyLlama, Mistral). Encodes and decodes as Hugging Face's `tokenizers`
   * (see HuggingFaceTokenizer).
   */
  static fromHuggingFace(json: string | object, options: LoadOptions = {}): HuggingFaceTokenizer {
    return HuggingFaceTokenizer.fromJSON(json, options);
  }

  /**
   * From GPT-2's vocab.json and merges.txt (their text), as the older Hugging
   * Face folders hold them; specialTokens default to "<|endoftext|>" when present.
   */
  static fromVocabAndMerges(vocabJson: string, mergesTxt: string, options: LoadOptions & { specialTokens?: readonly string[] } = {}): HuggingFaceTokenizer {
    return BpeTokenizer.fromHuggingFace(huggingFaceFromVocabAndMerges(vocabJson, mergesTxt, options.specialTokens), options);
  }

  /** From our own JSON format (toJSON's output), as text or parsed. */
  static fromJSON(json: BpeTokenizerJSON | string, options: LoadOptions = {}): BpeTokenizer {
    const data = expectTokenizerJSON(json, 'bpe');
    if (data.version !== 1) throw new TokenizerError(`expected bpe tokenizer JSON version 1, found ${describeValue(data.version)}`);
    if (typeof data.pattern !== 'string') throw new TokenizerError(`pattern: expected a regex source string, found ${describeValue(data.pattern)}`);
    const vocab = expectArray(data.vocab, 'vocab').map((b64, id) => {
      if (b64 === null) return null;
      const bytes = typeof b64 === 'string' ? fromBase64(b64) : null;
      if (!bytes) throw new TokenizerError(`vocab[${id}]: expected base64 bytes or null, found ${describeValue(b64)}`);
      return bytes;
    });
    let merges: [number, number, number][] | null = null;
    if (data.merges !== undefined && data.merges !== null) {
      merges = expectArray(data.merges, 'merges').map((m, i) => {
        if (!Array.isArray(m) || m.length !== 3) throw new TokenizerError(`merges[${i}]: expected [left, right, merged] ids, found ${describeValue(m)}`);
        return m.map((id, j) => expectId(id, `merges[${i}][${j}]`, vocab.length - 1)) as [number, number, number];
      });
    }
    if (data.ignoreMerges !== undefined && typeof data.ignoreMerges !== 'boolean') {
      throw new TokenizerError(`ignoreMerges: expected true or false, found ${describeValue(data.ignoreMerges)}`);
    }
    const specialTokens = data.specialTokens === undefined ? {} : (expectObject(data.specialTokens, 'specialTokens') as Record<string, number>);
    const pattern = checkSplitPattern(data.pattern, { where: 'tokenizer JSON', trustPattern: options.trustPattern });
    return new BpeTokenizer({ pattern, vocab, merges, ignoreMerges: data.ignoreMerges, specialTokens });
  }

  toJSON(): BpeTokenizerJSON {
    const json: BpeTokenizerJSON = {
      kind: 'bpe',
      version: 1,
      pattern: this.pattern,
      vocab: this.model.vocab.map((b) => (b ? toBase64(b) : null)),
      specialTokens: { ...this.specialTokens },
    };
    if (this.model.merges) {
      json.merges = this.model.merges.map(([a, b, m]) => [a, b, m]);
      json.ignoreMerges = this.ignoreMerges;
    }
    return json;
  }

  // ---- encode ----------------------------------------------------------------

  /** Text to ids. Never throws on a string; a lone surrogate is encoded as U+FFFD. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const regex = specialRegex(options.allowedSpecial, this.specialTokens, this.allSpecials);
    return encodeWithSpecials(text, regex, this.specialTokens, this.encodeOrdinary);
  }

  /** Encode text[start, end) with no special tokens at all, appending to out. */
  private readonly encodeOrdinary = (text: string, start: number, end: number, out: number[]): void => {
    forEachPiece(text, start, end, this.splitter, (piece) => this.pieces.encode(piece, out));
  };

  // ---- decode ----------------------------------------------------------------

  /** The bytes of one id (a special token's are its UTF-8 text). */
  tokenBytes(id: number): Uint8Array {
    const { offsets, bytes } = this.model;
    if (id >= 0 && id < this.model.size && offsets[id + 1] > offsets[id]) return bytes.subarray(offsets[id], offsets[id + 1]);
    const special = this.specialsById.get(id);
    if (special) return special;
    throw new TokenizerError(`expected a token id of this vocabulary (0 to ${this.vocabSize - 1}, not a gap), found ${id}`);
  }

  /** Ids to text. Bytes that are not valid UTF-8 (a character cut off) become U+FFFD. */
  decode(ids: readonly number[]): string {
    const { offsets, bytes } = this.model;
    const size = this.model.size;
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id >= 0 && id < size && offsets[id + 1] > offsets[id]) total += offsets[id + 1] - offsets[id];
      else total += this.checkedSpecial(id, i).length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const s = id >= 0 && id < size ? offsets[id] : 0;
      const e = id >= 0 && id < size ? offsets[id + 1] : 0;
      if (e > s) {
        for (let j = s; j < e; j++) out[at++] = bytes[j];
      } else {
        const special = this.specialsById.get(id)!;
        out.set(special, at);
        at += special.length;
      }
    }
    return textDecoder.decode(out);
  }

  private checkedSpecial(id: number, index: number): Uint8Array {
    const special = this.specialsById.get(id);
    if (special) return special;
    throw new TokenizerError(`ids[${index}]: expected a token id of this vocabulary (0 to ${this.vocabSize - 1}, not a gap), found ${id}`);
  }

  textStream(): TextStream {
    const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
    return {
      push: (id) => utf8.decode(this.tokenBytes(id), { stream: true }),
      flush: () => utf8.decode(),
    };
  }
}

const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
