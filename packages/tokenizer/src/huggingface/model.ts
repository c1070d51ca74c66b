// Hugging Face's BPE model (tokenizers' models/bpe/model.rs, merge_word and
// Word::merge_all), on one piece of text:
//
// 1. Symbols. Each character of the piece is a vocabulary token, if it is one.
//    Otherwise, with byte_fallback, it is its UTF-8 bytes as the tokens
//    "<0xE2>" "<0x82>" "<0xAC>" (sentencepiece's byte fallback); otherwise
//    unk_token (runs of unknown characters become one <unk> with fuse_unk);
//    without an unk_token the character is dropped, as Hugging Face does.
//    After a ByteLevel pre-tokenizer the characters are the piece's UTF-8
//    bytes, spelled with GPT-2's bytes_to_unicode ("Ġ" is the space byte).
// 2. Merges. Repeatedly merge the adjacent pair of symbols whose merge comes
//    first in `merges` (leftmost on ties), until no listed pair is left.
//    Symbols, not bytes: "▁t" + "he" is a merge of two tokens.
//
// With ignore_merges (Llama 3), a piece that is itself a token is that token.
// Pieces repeat, so their ids are cached.
//
// Byte-level files (a ByteLevel pre-tokenizer, no byte_fallback, a token for
// every byte) hand each piece to BpeTokenizer's encoder instead, which merges
// bytes to the same ids faster (byte-level.ts explains why they are the same).
//
// Llama 2's files split nothing before the model: a whole stretch of text,
// "▁Hello▁world▁...", is one word, and merging a long word costs O(n log n)
// with no cache. When no token has a "▁" after another character (true of
// sentencepiece vocabularies: "▁the" and "▁▁▁" but never "a▁"), no merge can
// join across the start of a "▁" run, so we cut the word there and merge the
// parts, which repeat and are cached: the same ids, and Llama 2 style text
// encodes about 3x faster (Tiny Shakespeare).
import { NONE, SCAN_LIMIT, mergeByHeap, mergeByScan } from '../bpe-model.js';
import { PieceCache, type PieceEncoder } from '../piece-encoder.js';
import { byteLevelEncoder } from './byte-level.js';
import { TokenizerError } from '../errors.js';
import { bytesToUnicode } from '../huggingface.js';
import { PairTable } from '../pair-table.js';
import { utf8Bytes } from '../utf8.js';
import { describeValue, expectArray, expectId, expectObject, expectString } from '../validate.js';

const SPACE = '\u2581'; // ▁, sentencepiece's space
const SPACE_CODE = 0x2581;

/** A Hugging Face BPE model: the vocabulary, the merges and the rules for characters it lacks. */
export class HuggingFaceBpe {
  /** Token -> id, and id -> token. */
  readonly vocab = new Map<string, number>();
  readonly tokens: string[] = [];
  private readonly ranks: PairTable;
  private readonly rankToId: Int32Array;
  private readonly unk: number | null;
  private readonly fuseUnk: boolean;
  private readonly ignoreMerges: boolean;
  /** The id of "<0xNN>" for each byte, -1 where missing; null without byte_fallback. */
  private readonly byteIds: Int32Array | null;
  /** bytes_to_unicode when the model sees bytes (after a ByteLevel pre-tokenizer). */
  private readonly byteChars: string[] | null;
  private readonly cache = new PieceCache();
  private readonly tokenizeSpelled = (piece: string): number[] => this.tokenizeWord(this.byteChars ? Array.from(utf8Bytes(piece), (b) => this.byteChars![b]).join('') : piece);
  private scanIds = new Int32Array(SCAN_LIMIT);
  private scanRanks = new Int32Array(SCAN_LIMIT);
  // The pair's rank (NONE when the pair never merges), as mergeByScan and mergeByHeap want it, and a rank's id; bound once.
  private readonly scanRank = (a: number, b: number): number => this.ranks.get(a, b, NONE);
  private readonly rankToIdOf = (r: number): number => this.rankToId[r];
  /** Byte-level files: BpeTokenizer's encoder does the model step (byte-level.ts); null for the loop below. */
  private readonly bytes: PieceEncoder | null;
  /** Cut words before each "▁" run (see the header): only when that cannot change a merge. */
  private readonly cutAtSpaces: boolean;

  /** From tokenizer.json's `model`; `idMax` bounds the ids; `byteLevel` when a ByteLevel pre-tokenizer feeds it. */
  constructor(json: unknown, idMax: number, byteLevel: boolean) {
    const model = expectObject(json, 'model');
    if (model.type !== 'BPE') {
      throw new TokenizerError(`model.type: expected "BPE" (Unigram, WordPiece and WordLevel models are not supported), found ${describeValue(model.type)}`);
    }
    for (const field of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
      if (model[field]) throw new TokenizerError(`model.${field}: expected null or "" (subword prefixes and suffixes are not supported), found ${describeValue(model[field])}`);
    }
    if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0) {
      throw new TokenizerError(`model.dropout: expected null (BPE dropout makes encoding random), found ${describeValue(model.dropout)}`);
    }
    const bool = (field: string) => {
      const v = model[field];
      if (v !== undefined && v !== null && typeof v !== 'boolean') throw new TokenizerError(`model.${field}: expected true or false, found ${describeValue(v)}`);
      return v === true;
    };
    this.fuseUnk = bool('fuse_unk');
    this.ignoreMerges = bool('ignore_merges');

    // A Map, not the parsed object: a token named "constructor" or "__proto__" is just a token.
    for (const [token, id] of Object.entries(expectObject(model.vocab, 'model.vocab'))) {
      const checked = expectId(id, `model.vocab[${JSON.stringify(token)}]`, idMax);
      this.vocab.set(token, checked);
      this.tokens[checked] = token;
    }
    if (model.unk_token === undefined || model.unk_token === null) this.unk = null;
    else {
      const unk = this.vocab.get(expectString(model.unk_token, 'model.unk_token'));
      if (unk === undefined) throw new TokenizerError(`model.unk_token: expected a token of model.vocab, found ${describeValue(model.unk_token)}, which is not`);
      this.unk = unk;
    }
    this.byteIds = bool('byte_fallback') ? Int32Array.from({ length: 256 }, (_, b) => this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`) ?? -1) : null;
    this.byteChars = byteLevel ? bytesToUnicode() : null;

    this.cutAtSpaces = !byteLevel && !this.ignoreMerges && this.vocab.has(SPACE) && ![...this.vocab.keys()].some((t) => /[^\u2581]\u2581/.test(t));

    const merges = parseMerges(model.merges, this.vocab);
    this.bytes = byteLevel && !this.byteIds ? byteLevelEncoder(this.vocab, merges, this.ignoreMerges) : null;
    this.ranks = new PairTable(this.bytes ? 0 : merges.length);
    this.rankToId = new Int32Array(this.bytes ? 0 : merges.length);
    if (this.bytes) return;
    merges.forEach(([left, right, merged], rank) => {
      this.ranks.set(left, right, rank); // a pair listed twice keeps its last rank, as Hugging Face's map does
      this.rankToId[rank] = merged;
    });
  }

  /** Append the ids of one piece of (normalized, pre-tokenized) text to out. */
  tokenize(piece: string, out: number[]): void {
    if (this.bytes) return this.bytes.encode(piece, out);
    if (!this.cutAtSpaces) return this.tokenizePart(piece, out);
    let start = 0;
    for (let i = 1; i < piece.length; i++) {
      if (piece.charCodeAt(i) === SPACE_CODE && piece.charCodeAt(i - 1) !== SPACE_CODE) {
        this.tokenizePart(piece.slice(start, i), out);
        start = i;
      }
    }
    this.tokenizePart(start === 0 ? piece : piece.slice(start), out);
  }

  private tokenizePart(piece: string, out: number[]): void {
    this.cache.encode(piece, out, this.tokenizeSpelled);
  }

  private tokenizeWord(word: string): number[] {
    if (word === '') return [];
    const whole = this.ignoreMerges ? this.vocab.get(word) : undefined;
    if (whole !== undefined) return [whole];
    const symbols: number[] = [];
    let pendingUnk = false; // an <unk> not yet added (fuse_unk extends it)
    for (const char of word) {
      const id = this.vocab.get(char);
      if (id !== undefined) {
        if (pendingUnk) symbols.push(this.unk!);
        pendingUnk = false;
        symbols.push(id);
        continue;
      }
      if (this.byteIds) {
        const bytes = Array.from(utf8Bytes(char), (b) => this.byteIds![b]);
        if (!bytes.includes(-1)) {
          symbols.push(...bytes); // as Hugging Face: a pending <unk> is added after these
          continue;
        }
      }
      if (this.unk === null) continue; // no unk_token: the character is dropped
      if (pendingUnk && !this.fuseUnk) symbols.push(this.unk);
      pendingUnk = true;
    }
    if (pendingUnk) symbols.push(this.unk!);
    return this.merge(symbols);
  }

  // Word::merge_all merges the lowest-ranked pair first, the leftmost on ties.
  // A short word does that with a scan (no allocation but the ids it is given),
  // a long one with Word::merge_all's heap.
  private merge(ids: number[]): number[] {
    if (ids.length < 2) return ids;
    return ids.length <= SCAN_LIMIT ? this.mergeScan(ids) : this.mergeHeap(ids);
  }

  // BpeModel.encodeBytes's scan (mergeByScan), on the symbols copied into an Int32Array.
  private mergeScan(ids: number[]): number[] {
    if (this.scanIds.length < ids.length) {
      this.scanIds = new Int32Array(ids.length * 2);
      this.scanRanks = new Int32Array(ids.length * 2);
    }
    this.scanIds.set(ids);
    const len = mergeByScan(this.scanIds, this.scanRanks, ids.length, this.scanRank, this.rankToIdOf);
    for (let i = 0; i < len; i++) ids[i] = this.scanIds[i];
    ids.length = len;
    return ids;
  }

  // BpeModel's heap for long pieces (mergeByHeap), on the symbols copied into an Int32Array.
  private mergeHeap(ids: number[]): number[] {
    const out: number[] = [];
    mergeByHeap(Int32Array.from(ids), out, this.scanRank, this.rankToIdOf);
    return out;
  }
}

/** model.merges as [left, right, merged] ids, each checked against the vocab. */
export function parseMerges(json: unknown, vocab: ReadonlyMap<string, number>): [number, number, number][] {
  return expectArray(json ?? [], 'model.merges').map((m, rank) => {
    const [left, right] = mergePair(m, rank);
    const ids = [vocab.get(left), vocab.get(right), vocab.get(left + right)];
    if (ids.includes(undefined)) {
      throw new TokenizerError(`model.merges[${rank}]: expected "${left}", "${right}" and "${left + right}" in the vocab, found ${ids.map((x) => (x === undefined ? 'missing' : x)).join(', ')}`);
    }
    return ids as [number, number, number];
  });
}

/** A merge as "left right" (split at the first space after the first character) or [left, right]. */
function mergePair(m: unknown, i: number): [string, string] {
  if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
  if (typeof m === 'string') {
    const at = m.indexOf(' ', 1);
    if (at !== -1) return [m.slice(0, at), m.slice(at + 1)];
  }
  throw new TokenizerError(`model.merges[${i}]: expected "left right" or [left, right], found ${describeValue(m)}`);
}
