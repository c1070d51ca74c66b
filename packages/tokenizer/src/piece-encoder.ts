// One piece of text (what a split pattern cut out: " the", "Hello", "\n\n")
// to byte-level BPE ids, fast. Pieces repeat, so their ids are cached: after
// warm-up encoding a piece is one Map lookup. A miss writes the piece's UTF-8
// into a reused buffer and merges it with the BpeModel (a scan for short
// pieces, a heap for long ones).
//
// BpeTokenizer runs every piece through it, and so does HuggingFaceTokenizer
// for byte-level tokenizer.json files (GPT-2, Llama 3, Qwen2, SmolLM:
// huggingface/byte-level.ts), whose pre-tokenizers cut the pieces.
import type { BpeModel } from './bpe-model.js';
import { bytesKey, utf8Encode } from './utf8.js';

/** Pieces cached at most; the cache is cleared when it fills up. */
const CACHE_LIMIT = 100_000;
/** Longer pieces are not cached: they rarely repeat, and a key would keep the whole text it came from alive. */
const CACHE_PIECE_LIMIT = 256;

/**
 * A piece -> ids cache (PieceEncoder's, and HuggingFaceBpe's for its other
 * models): a hit, or `compute` stored when the piece is short enough; the
 * ids are appended to out.
 */
export class PieceCache {
  private readonly map = new Map<string, number[]>();

  /** Append piece's ids to out: cached, or computed once and cached. */
  encode(piece: string, out: number[], compute: (piece: string) => number[]): void {
    let ids = this.map.get(piece);
    if (ids === undefined) {
      ids = compute(piece);
      if (piece.length <= CACHE_PIECE_LIMIT) {
        if (this.map.size >= CACHE_LIMIT) this.map.clear();
        this.map.set(piece, ids);
      }
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]);
  }
}

/** A cached piece -> ids encoder over a byte-level BPE model. */
export class PieceEncoder {
  /** Piece -> its single id, for pieces that are whole tokens (when ignoreMerges). */
  private readonly wholeTokens = new Map<string, number>();
  private readonly cache = new PieceCache();
  private readonly mergePiece = (piece: string): number[] => this.merge(piece);
  private scratch = new Uint8Array(1024);

  /** `ignoreMerges`: a piece whose bytes are a token is that token (tiktoken's rule, Hugging Face's ignore_merges). */
  constructor(
    readonly model: BpeModel,
    private readonly ignoreMerges: boolean,
  ) {
    if (!ignoreMerges) return;
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    model.vocab.forEach((bytes, id) => {
      if (!bytes) return;
      try {
        const text = strict.decode(bytes);
        if (!this.wholeTokens.has(text)) this.wholeTokens.set(text, id);
      } catch {
        // not valid UTF-8 on its own: no piece of text can equal it
      }
    });
  }

  /** Append the ids of one piece to out. */
  encode(piece: string, out: number[]): void {
    if (this.ignoreMerges) {
      const id = this.wholeTokens.get(piece);
      if (id !== undefined) {
        out.push(id);
        return;
      }
    }
    this.cache.encode(piece, out, this.mergePiece);
  }

  private merge(piece: string): number[] {
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
}
