// The model step of a byte-level tokenizer.json (GPT-2, Llama 3, Qwen2,
// SmolLM: a ByteLevel pre-tokenizer, a BPE model without byte_fallback) runs
// on BpeTokenizer's encoder (piece-encoder.ts: piece caches, an integer-keyed
// rank table, a heap for long pieces) instead of model.ts's character-level
// loop. The ids are the same, because Hugging Face's BPE on a ByteLevel piece
// is byte-level BPE with a merge list:
//
// - Its symbols are the piece's UTF-8 bytes spelled with bytes_to_unicode
//   ("Ġ" is the space byte), so a token "Ġthe" is the bytes " the". A token
//   with a character outside that table can come out of no piece, nor can a
//   merge that names one: both are left out.
// - Merges apply in list order, leftmost first on ties (BpeModel's rule). A
//   pair listed twice keeps its last rank in Hugging Face (a map insert), and
//   its first in BpeModel, so earlier listings are dropped.
// - ignore_merges: a piece whose bytes are a token is that token (PieceEncoder's
//   whole-token rule).
//
// When some byte has no token of its own, Hugging Face drops that byte or
// gives unk_token; BpeModel cannot, so such a file keeps model.ts's loop.
import { BpeModel } from '../bpe-model.js';
import { bytesToUnicode } from '../huggingface.js';
import { PairTable } from '../pair-table.js';
import { PieceEncoder } from '../piece-encoder.js';

/** [left, right, merged] ids in the file's order. */
export type MergeIds = readonly (readonly [number, number, number])[];

/** BpeTokenizer's encoder for a byte-level vocabulary (token -> id) and its merges, or null when a byte has no token. */
export function byteLevelEncoder(vocab: ReadonlyMap<string, number>, merges: MergeIds, ignoreMerges: boolean): PieceEncoder | null {
  const table = bytesToUnicode();
  for (const char of table) if (!vocab.has(char)) return null;
  // The table's characters are single UTF-16 units below U+0144: a byte per char code, -1 for the rest.
  const byteOf = new Int16Array(0x144).fill(-1);
  table.forEach((char, byte) => (byteOf[char.charCodeAt(0)] = byte));
  const bytes: (Uint8Array | null)[] = [];
  for (const [token, id] of vocab) bytes[id] = spell(token, byteOf);
  for (let id = 0; id < bytes.length; id++) bytes[id] ??= null; // ids no token uses

  const listedLater = new PairTable(merges.length);
  const drop = new Uint8Array(merges.length);
  let dropped = 0;
  for (let i = merges.length - 1; i >= 0; i--) {
    const [left, right] = merges[i];
    if (listedLater.get(left, right, 0) === 1 || !bytes[left] || !bytes[right]) {
      drop[i] = 1;
      dropped++;
    } else listedLater.set(left, right, 1);
  }
  const kept = dropped === 0 ? merges : merges.filter((_, i) => drop[i] === 0);
  return new PieceEncoder(new BpeModel({ vocab: bytes, merges: kept }), ignoreMerges);
}

/** A token's bytes, or null if a character of it spells no byte. */
function spell(token: string, byteOf: Int16Array): Uint8Array | null {
  if (token === '') return null;
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    const byte = code < byteOf.length ? byteOf[code] : -1;
    if (byte === -1) return null;
    out[i] = byte;
  }
  return out;
}
