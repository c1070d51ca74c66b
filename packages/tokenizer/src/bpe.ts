// BpeTokenizer: a byte-level BPE like GPT-2's, tiktoken's and minbpe's
// RegexTokenizer. Text is cut into pieces by a split pattern, each piece is
// turned into UTF-8 bytes and merged into tokens by the BpeModel. Pieces
// repeat (" the", " and"), so their ids are cached: after warm-up most of
// encode() is the regex and one Map lookup per piece.
//
// Where the tokenizers come from: BpeTokenizer.train (our trainer),
// fromTiktoken (.tiktoken files, js-tiktoken's rank objects), fromHuggingFace
// (tokenizer.json of the BPE kind), fromJSON (our format, toJSON's output).
import { BpeModel } from './bpe-model.js';
import { TokenizerError } from './errors.js';
import { compilePattern, patternSource, type PatternName } from './patterns.js';
import { buildSpecialRegex, encodeWithSpecials, specialRegex } from './special.js';
import type { BpeTokenizerJSON, Decoder, EncodeOptions, Tokenizer } from './tokenizer.js';
import { bytesKey, fromBase64, toBase64, utf8Bytes, utf8Encode } from './utf8.js';
import { parseTiktoken, type TiktokenRanks } from './tiktoken.js';
import { parseHuggingFace } from './huggingface.js';
import { trainBpe, type TrainOptions } from './train.js';

export interface BpeTokenizerSpec {
  /** Split pattern: 'gpt2', 'cl100k' or a regex source (JS syntax, used with the "gu" flags). */
  pattern: PatternName | string;
  /** The bytes of each id; null for special or unused ids. */
  vocab: (Uint8Array | null)[];
  /** [left, right, merged] in priority order; omit for tiktoken's rule (rank = id of the concatenated bytes). */
  merges?: readonly (readonly [number, number, number])[] | null;
  /** With merges: a piece that is a whole token is that token (tiktoken always does this). Default: true without merges, false with. */
  ignoreMerges?: boolean;
  specialTokens?: Readonly<Record<string, number>>;
}

export interface FromTiktokenOptions {
  /** Split pattern; required for .tiktoken text, taken from js-tiktoken's rank objects otherwise. */
  pattern?: PatternName | string;
  /** Special tokens; replaces those of a rank object. */
  specialTokens?: Readonly<Record<string, number>>;
}

/** Pieces cached at most; the cache is cleared when it fills up. */
const CACHE_LIMIT = 100_000;

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
  /** Piece -> its single id, for pieces that are whole tokens (when ignoreMerges). */
  private readonly wholeTokens = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();
  private scratch = new Uint8Array(1024);

  constructor(spec: BpeTokenizerSpec) {
    this.pattern = patternSource(spec.pattern);
    this.splitter = compilePattern(this.pattern);
    const merges = spec.merges ?? null;
    this.model = new BpeModel({ vocab: spec.vocab, merges });
    this.ignoreMerges = spec.ignoreMerges ?? merges === null;
    this.specialTokens = Object.freeze({ ...(spec.specialTokens ?? {}) });
    let size = spec.vocab.length;
    for (const [name, id] of Object.entries(this.specialTokens)) {
      if (!Number.isInteger(id) || id < 0) throw new TokenizerError(`special token ${JSON.stringify(name)}: expected a non-negative integer id, found ${id}`);
      if (name === '') throw new TokenizerError('expected special tokens to be non-empty strings, found ""');
      if (spec.vocab[id]) throw new TokenizerError(`special token ${JSON.stringify(name)}: expected an id no ordinary token uses, found ${id}, which is already a token`);
      if (this.specialsById.has(id)) throw new TokenizerError(`special token ${JSON.stringify(name)}: expected its own id, found ${id}, shared with another special token`);
      this.specialsById.set(id, utf8Bytes(name));
      size = Math.max(size, id + 1);
    }
    this.vocabSize = size;
    this.allSpecials = buildSpecialRegex(Object.keys(this.specialTokens));
    if (this.ignoreMerges) {
      const strict = new TextDecoder('utf-8', { fatal: true });
      spec.vocab.forEach((bytes, id) => {
        if (!bytes) return;
        try {
          const text = strict.decode(bytes);
          if (!this.wholeTokens.has(text)) this.wholeTokens.set(text, id);
        } catch {
          // not valid UTF-8 on its own: no piece of text can equal it
        }
      });
    }
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
    const pattern = options.pattern ?? parsed.pattern;
    if (pattern === undefined) {
      throw new TokenizerError("expected options.pattern ('gpt2', 'cl100k' or a regex source) with .tiktoken text, which carries no split pattern, found none");
    }
    return new BpeTokenizer({ pattern, vocab: parsed.vocab, specialTokens: options.specialTokens ?? parsed.specialTokens ?? {} });
  }

  /** From a Hugging Face tokenizer.json of the byte-level BPE kind (GPT-2, RoBERTa, Llama 3, ...), as text or parsed. */
  static fromHuggingFace(json: string | object): BpeTokenizer {
    return new BpeTokenizer(parseHuggingFace(json));
  }

  /** From our own JSON format (toJSON's output). */
  static fromJSON(json: BpeTokenizerJSON | string): BpeTokenizer {
    const data = (typeof json === 'string' ? JSON.parse(json) : json) as BpeTokenizerJSON;
    if (data?.kind !== 'bpe') throw new TokenizerError(`expected a tokenizer JSON with kind "bpe", found kind ${JSON.stringify(data?.kind)}`);
    if (data.version !== 1) throw new TokenizerError(`expected bpe tokenizer JSON version 1, found ${JSON.stringify(data.version)}`);
    if (typeof data.pattern !== 'string' || !Array.isArray(data.vocab)) {
      throw new TokenizerError('expected bpe tokenizer JSON with a string "pattern" and a "vocab" array, found them missing or of another type');
    }
    const vocab = data.vocab.map((b64, id) => {
      if (b64 === null) return null;
      const bytes = typeof b64 === 'string' ? fromBase64(b64) : null;
      if (!bytes) throw new TokenizerError(`vocab[${id}]: expected base64 bytes or null, found ${JSON.stringify(b64)}`);
      return bytes;
    });
    return new BpeTokenizer({ pattern: data.pattern, vocab, merges: data.merges ?? null, ignoreMerges: data.ignoreMerges, specialTokens: data.specialTokens ?? {} });
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

  /** Encode text with no special tokens at all, appending to out. */
  private readonly encodeOrdinary = (text: string, start: number, end: number, out: number[]): void => {
    const s = start === 0 && end === text.length ? text : text.slice(start, end);
    const re = this.splitter;
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      const piece = m[0];
      if (piece.length === 0) {
        re.lastIndex += s.codePointAt(re.lastIndex)! > 0xffff ? 2 : 1; // a pattern that matches "" must still move on
        continue;
      }
      if (this.ignoreMerges) {
        const id = this.wholeTokens.get(piece);
        if (id !== undefined) {
          out.push(id);
          continue;
        }
      }
      const cached = this.cache.get(piece);
      if (cached !== undefined) {
        for (let i = 0; i < cached.length; i++) out.push(cached[i]);
        continue;
      }
      const ids = this.encodePiece(piece);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(piece, ids);
      for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    }
  };

  private encodePiece(piece: string): number[] {
    if (this.scratch.length < piece.length * 3) this.scratch = new Uint8Array(piece.length * 6);
    const n = utf8Encode(piece, 0, piece.length, this.scratch);
    if (this.ignoreMerges) {
      // a piece with a lone surrogate misses wholeTokens but its bytes (U+FFFD's) may still be one token
      const id = this.model.idOfBytes(bytesKey(this.scratch, 0, n));
      if (id !== undefined) return [id];
    }
    const ids: number[] = [];
    this.model.encodeBytes(this.scratch, n, ids);
    return ids;
  }

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

  decoder(): Decoder {
    const utf8 = new TextDecoder('utf-8');
    return {
      push: (id) => utf8.decode(this.tokenBytes(id), { stream: true }),
      flush: () => utf8.decode(),
    };
  }
}

const textDecoder = new TextDecoder('utf-8');
