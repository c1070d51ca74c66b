// Tokens as the views print them. decode([id]) alone will not do for the
// Llama family: a sentencepiece-style token "▁the" decodes to "the" (the
// decoder strips the first space), and a byte-fallback token <0xE2> is a third
// of "€", which decodes to "\uFFFD" on its own (so does a byte-level token
// holding part of a character, in Llama 3 or Qwen2). So each token is read as
// its bytes: "▁" is a space, <0xNN> the byte NN, a byte-level token's
// characters its bytes (GPT-2's table). A token that is whole UTF-8 is its
// text; tokens that only together complete characters each show that text
// with their part, "€ 1/3", "€ 2/3", "€ 3/3"; a byte that completes nothing is
// ⟨E2⟩. A token of spaces only ("▁") shows as ␣, which the eye can see.
// Special and added tokens (<s>) keep their spelling.
import { HuggingFaceTokenizer, bytesToUnicode, type Tokenizer } from '@tx/tokenizer';

/** How a vocabulary spells its tokens' bytes. */
type Spelling = 'sentencepiece' | 'byte-level';

/** What a view prints for each of `ids`, one string per token. */
export function tokenLabels(tokenizer: Tokenizer, ids: readonly number[]): string[] {
  if (!(tokenizer instanceof HuggingFaceTokenizer)) return ids.map((id) => tokenizer.decode([id]));
  const spelling = spellingOf(tokenizer);
  const special = new Set(Object.values(tokenizer.specialTokens));
  const pieces = ids.map((id) => (special.has(id) ? null : tokenizer.idToToken(id) ?? null));
  const labels = labelPieces(pieces.map((p, i) => (p === null ? { text: tokenizer.idToToken(ids[i]) ?? `⟨${ids[i]}⟩` } : { bytes: pieceBytes(p, spelling) })));
  return labels.map((l) => (/^ +$/.test(l) ? '␣'.repeat(l.length) : l));
}

/** A token as bytes, or as text shown as it is (special tokens). */
export type TokenPiece = { bytes: Uint8Array } | { text: string };

/** Labels from tokens' bytes: whole characters as text, parts of one grouped ("€ 1/3"), stray bytes as ⟨E2⟩. */
export function labelPieces(pieces: readonly TokenPiece[]): string[] {
  const labels: string[] = [];
  for (let i = 0; i < pieces.length;) {
    const p = pieces[i];
    if ('text' in p) {
      labels.push(p.text);
      i++;
      continue;
    }
    const whole = utf8(p.bytes);
    if (whole !== null) {
      labels.push(whole);
      i++;
      continue;
    }
    // The shortest run of byte tokens from here (a character is at most 4 bytes) that decodes whole.
    let run = 0, text: string | null = null;
    for (let n = 2; n <= 4 && i + n <= pieces.length && pieces.slice(i, i + n).every((q) => 'bytes' in q); n++) {
      text = utf8(concat(pieces.slice(i, i + n).map((q) => (q as { bytes: Uint8Array }).bytes)));
      if (text !== null) { run = n; break; }
    }
    if (run) {
      for (let k = 1; k <= run; k++) labels.push(`${text} ${k}/${run}`);
      i += run;
    } else {
      labels.push(hexOrText(p.bytes));
      i++;
    }
  }
  return labels;
}

/** Byte-level vocabularies (GPT-2, Llama 3, Qwen2) decode with a ByteLevel decoder; the others spell spaces with ▁. */
function spellingOf(tokenizer: HuggingFaceTokenizer): Spelling {
  return JSON.stringify(tokenizer.toJSON().decoder ?? null).includes('"ByteLevel"') ? 'byte-level' : 'sentencepiece';
}

let unicodeToByte: Map<string, number> | null = null;

/** A vocabulary's token as its bytes. */
export function pieceBytes(piece: string, spelling: Spelling): Uint8Array {
  if (spelling === 'sentencepiece') {
    const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
    return byte ? Uint8Array.of(parseInt(byte[1], 16)) : new TextEncoder().encode(piece.replaceAll('▁', ' '));
  }
  unicodeToByte ??= new Map(Object.entries(bytesToUnicode()).map(([b, c]) => [c, Number(b)]));
  const chars = [...piece];
  if (!chars.every((c) => unicodeToByte!.has(c))) return new TextEncoder().encode(piece); // an added token spelled as text
  return Uint8Array.from(chars, (c) => unicodeToByte!.get(c)!);
}

const strict = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: Uint8Array): string | null {
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** A token's bytes that do not decode whole: its whole characters as text, every other byte as ⟨E2⟩ (" ⟨E2⟩" for " \xE2"). */
function hexOrText(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length;) {
    let done = false;
    for (let n = Math.min(4, bytes.length - i); n >= 1; n--) {
      const t = utf8(bytes.subarray(i, i + n));
      if (t !== null) { out += t; i += n; done = true; break; }
    }
    if (!done) { out += `⟨${bytes[i].toString(16).toUpperCase().padStart(2, '0')}⟩`; i++; }
  }
  return out;
}
