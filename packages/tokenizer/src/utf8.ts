// UTF-8 for the byte-level BPE. Text is split into pieces by a regex, and each
// piece becomes bytes; this encoder writes a piece's bytes into a reusable
// buffer without allocating (TextEncoder would allocate one array per piece).
//
// A lone surrogate (half of a UTF-16 pair with no partner) is not a Unicode
// character, so it cannot be UTF-8: like TextEncoder, we write U+FFFD
// (EF BF BD) for it. Encoding never throws; decoding gives U+FFFD back.

/** Write the UTF-8 bytes of text[start, end) into out from 0; return the byte count. out must hold 3 * (end - start) bytes. */
export function utf8Encode(text: string, start: number, end: number, out: Uint8Array | number[]): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < end ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[n++] = 0xf0 | (cp >> 18);
          out[n++] = 0x80 | ((cp >> 12) & 0x3f);
          out[n++] = 0x80 | ((cp >> 6) & 0x3f);
          out[n++] = 0x80 | (cp & 0x3f);
          continue;
        }
        c = 0xfffd; // lone surrogate
      }
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}

const encoder = new TextEncoder();

/** The UTF-8 bytes of a whole string (lone surrogates become U+FFFD). */
export function utf8Bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Decode bytes; invalid or incomplete sequences become U+FFFD (WHATWG rules). */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** A Latin-1 string with one char per byte: a cheap, exact Map key for a byte string. */
export function bytesKey(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

const base64Chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const base64Index = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) base64Index[base64Chars.charCodeAt(i)] = i;

/** Standard base64 (with padding) to bytes; null if the text is not base64. Works in browsers and Node alike. */
export function fromBase64(text: string): Uint8Array | null {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */) end--;
  if (text.length % 4 !== 0 || text.length - end > 2) return null;
  const out = new Uint8Array((end * 3) >> 2);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? base64Index[c] : -1;
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += base64Chars[v >> 18] + base64Chars[(v >> 12) & 63] + base64Chars[(v >> 6) & 63] + base64Chars[v & 63];
  }
  if (i + 1 === bytes.length) {
    const v = bytes[i] << 16;
    s += base64Chars[v >> 18] + base64Chars[(v >> 12) & 63] + '==';
  } else if (i + 2 === bytes.length) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    s += base64Chars[v >> 18] + base64Chars[(v >> 12) & 63] + base64Chars[(v >> 6) & 63] + '=';
  }
  return s;
}
