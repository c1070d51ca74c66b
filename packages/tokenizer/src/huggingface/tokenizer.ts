// A Hugging Face tokenizer.json, encoded as Hugging Face's `tokenizers`
// encodes it (Tokenizer.from_file(path).encode(text).ids, post-processor
// included) and decoded as its decode does. The pipeline, one file each:
//
//   text -> added tokens found, stretches between them normalized   added-tokens.ts, normalizers.ts
//        -> pieces                                                   pre-tokenizers.ts (regex.ts)
//        -> BPE ids per piece                                        model.ts
//        -> <s> ... added around them                                post-processor.ts
//   ids  -> token strings -> text                                    decoders.ts
//
// It covers the byte-level BPEs (GPT-2, Llama 3, Qwen2, SmolLM) and the
// sentencepiece-style BPEs (Llama 2, TinyLlama, Mistral). A component it does
// not implement is one TokenizerError naming it, never a silently different
// tokenization. Two Hugging Face defaults differ from @tx's other tokenizers:
// added tokens are found in the text (pass allowedSpecial: 'none' to read
// special tokens' text as text, Hugging Face's encode_special_tokens), and
// decode skips special tokens (skipSpecialTokens: false keeps them).
import { TokenizerError } from '../errors.js';
import type { AllowedSpecial, EncodeOptions, HuggingFaceTokenizerJSON, LoadOptions, TextStream, Tokenizer } from '../tokenizer.js';
import { describeValue, expectObject, idLimit, parseJSON } from '../validate.js';
import { AddedTokenMatcher, parseAddedTokens, type AddedToken } from './added-tokens.js';
import { parseDecoder, type Decoder } from './decoders.js';
import { HuggingFaceBpe } from './model.js';
import { parseNormalizer } from './normalizers.js';
import { parsePostProcessor, type PostProcessor } from './post-processor.js';
import { parsePreTokenizer, type PreTokenizer } from './pre-tokenizers.js';

/** Options of HuggingFaceTokenizer.decode and textStream. */
export interface DecodeOptions {
  /** Leave special added tokens (<s>, </s>, <|eot_id|>) out of the text. Default true, as Hugging Face's decode. */
  skipSpecialTokens?: boolean;
}

/** A Hugging Face tokenizer.json of a BPE model: ids equal those of Hugging Face's `tokenizers`, decode is its decode. */
export class HuggingFaceTokenizer implements Tokenizer {
  readonly kind = 'bpe';
  readonly vocabSize: number;
  readonly specialTokens: Readonly<Record<string, number>>;
  private readonly json: HuggingFaceTokenizerJSON;
  private readonly added: AddedToken[];
  private readonly matcher: AddedTokenMatcher;
  private readonly preTokenizer: PreTokenizer;
  private readonly model: HuggingFaceBpe;
  private readonly postProcess: PostProcessor;
  private readonly decoder: Decoder;
  /**
   * id -> the token string decoders see (added tokens first, as Hugging Face
   * looks them up; a normalized added token as the normalizer spells it, so
   * Llama 2's "<tool>" decodes from "▁<tool>" with its space), and which ids are special.
   */
  private readonly tokens: (string | undefined)[] = [];
  private readonly special = new Set<number>();

  private constructor(json: Record<string, unknown>, options: LoadOptions) {
    this.json = json as HuggingFaceTokenizerJSON;
    const trust = options.trustPattern ?? false;
    for (const field of ['truncation', 'padding']) {
      if (json[field] !== undefined && json[field] !== null) throw new TokenizerError(`${field}: expected null (${field} is not applied by @tx/tokenizer), found ${describeValue(json[field])}`);
    }
    const model = expectObject(json.model, 'model');
    const vocabCount = model.vocab !== null && typeof model.vocab === 'object' ? Object.keys(model.vocab).length : 0;
    const addedCount = Array.isArray(json.added_tokens) ? json.added_tokens.length : 0;
    const idMax = idLimit(vocabCount + addedCount);

    const normalizer = parseNormalizer(json.normalizer, 'normalizer', trust);
    this.preTokenizer = parsePreTokenizer(json.pre_tokenizer, trust);
    this.model = new HuggingFaceBpe(json.model, idMax, this.preTokenizer.byteLevel);
    this.added = parseAddedTokens(json.added_tokens, idMax);
    this.matcher = new AddedTokenMatcher(this.added, normalizer);
    this.postProcess = parsePostProcessor(json.post_processor, idMax);
    this.decoder = parseDecoder(json.decoder, trust);

    this.model.tokens.forEach((token, id) => (this.tokens[id] = token));
    for (const t of this.added) {
      this.tokens[t.id] = t.normalized && normalizer ? normalizer(t.content) : t.content;
      if (t.special) this.special.add(t.id);
    }
    this.vocabSize = this.tokens.length;
    this.specialTokens = Object.freeze(Object.fromEntries(this.added.filter((t) => t.special).map((t) => [t.content, t.id])));
  }

  /** From a tokenizer.json, as text or parsed (kept as is: toJSON returns it). */
  static fromJSON(json: string | object, options: LoadOptions = {}): HuggingFaceTokenizer {
    return new HuggingFaceTokenizer(expectObject(typeof json === 'string' ? parseJSON(json, 'tokenizer.json text') : json, 'tokenizer.json'), options);
  }

  /**
   * Text to ids, as Hugging Face's encode(text).ids: added tokens found in the
   * text, and the post-processor's tokens (<s>) added unless
   * `addSpecialTokens: false`. `allowedSpecial` (default 'all') says which
   * special tokens are found; the others are read as text.
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.encodePair(text, null, options);
  }

  /** Two texts to ids, as Hugging Face's encode(a, b).ids (the post-processor's pair template). */
  encodePair(a: string, b: string | null, options: EncodeOptions = {}): number[] {
    const allowed = this.allowed(options.allowedSpecial);
    const ia = this.encodeText(a, allowed);
    const ib = b === null ? null : this.encodeText(b, allowed);
    if (options.addSpecialTokens === false) return ib ? ia.concat(ib) : ia;
    return this.postProcess(ia, ib);
  }

  private encodeText(text: string, allowed: (t: AddedToken) => boolean): number[] {
    const out: number[] = [];
    const tokenize = (piece: string) => this.model.tokenize(piece, out);
    for (const segment of this.matcher.split(text, allowed)) {
      if (segment.id !== null) out.push(segment.id);
      else this.preTokenizer.split(segment.text, segment.first, tokenize);
    }
    return out;
  }

  private allowed(allowed: AllowedSpecial | undefined): (t: AddedToken) => boolean {
    if (allowed === undefined || allowed === 'all') return () => true;
    if (allowed === 'none') return () => false;
    if (!Array.isArray(allowed)) throw new TokenizerError(`expected allowedSpecial to be 'all', 'none' or a list of special tokens, found ${JSON.stringify(allowed)}`);
    for (const name of allowed) {
      if (!Object.hasOwn(this.specialTokens, name)) {
        throw new TokenizerError(`expected allowedSpecial to name special tokens of this tokenizer (${Object.keys(this.specialTokens).map((s) => JSON.stringify(s)).join(', ') || 'it has none'}), found ${JSON.stringify(name)}`);
      }
    }
    const names = new Set(allowed);
    return (t) => names.has(t.content);
  }

  /** The token string of an id, as the vocabulary spells it ("▁the", "<0xE2>", "Ġthe"), or undefined. */
  idToToken(id: number): string | undefined {
    return this.added.find((t) => t.id === id)?.content ?? this.model.tokens[id];
  }

  /** The id of a token string of the vocabulary or the added tokens, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.added.find((t) => t.content === token)?.id ?? this.model.vocab.get(token);
  }

  /** Ids to text, as Hugging Face's decode(ids): special tokens skipped unless `skipSpecialTokens: false`. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const skip = options.skipSpecialTokens ?? true;
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const token = Number.isInteger(id) ? this.tokens[id] : undefined;
      if (token === undefined) throw new TokenizerError(`ids[${i}]: expected a token id of this vocabulary (0 to ${this.vocabSize - 1}, not a gap), found ${id}`);
      if (!(skip && this.special.has(id))) tokens.push(token);
    }
    return this.decoder(tokens);
  }

  /**
   * A stream of text from ids, as Hugging Face's DecodeStream: each push
   * decodes the ids since the last complete text together with a few before
   * them (so that a decoder's "strip the first space" applies once), and
   * returns nothing while the text ends in an unfinished character (an emoji's
   * first byte tokens). The pushes and the flush concatenate to decode(ids).
   */
  textStream(options: DecodeOptions = {}): TextStream {
    let ids: number[] = [];
    let prefix = '';
    let prefixIndex = 0;
    return {
      push: (id) => {
        if (prefix === '' && ids.length > 0) {
          const text = this.decode(ids, options);
          if (!text.endsWith('\ufffd')) {
            prefix = text;
            prefixIndex = ids.length;
          }
        }
        ids.push(id);
        const text = this.decode(ids, options);
        if (text.length <= prefix.length || text.endsWith('\ufffd') || !text.startsWith(prefix)) return '';
        const fresh = text.slice(prefix.length);
        const nextIndex = ids.length - prefixIndex;
        ids = ids.slice(prefixIndex);
        prefix = this.decode(ids, options);
        prefixIndex = nextIndex;
        return fresh;
      },
      flush: () => {
        const text = this.decode(ids, options);
        const rest = text.startsWith(prefix) ? text.slice(prefix.length) : '';
        ids = [];
        prefix = '';
        prefixIndex = 0;
        return rest;
      },
    };
  }

  /** The tokenizer.json it was loaded from (loadTokenizer reads it back). */
  toJSON(): HuggingFaceTokenizerJSON {
    return this.json;
  }
}
