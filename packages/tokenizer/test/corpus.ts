// Test inputs shared by the test files: Tiny Shakespeare and the tricky strings.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// CI clones the repo with shared/ beside the clone: <repo root>/../shared.
const path = fileURLToPath(new URL('../../../../shared/data/tinyshakespeare.txt', import.meta.url));

/** Tiny Shakespeare; a missing file fails the test that needs it (it never skips). */
export function tinyShakespeare(): string {
  if (!existsSync(path)) {
    throw new Error(`Tiny Shakespeare not found at ${path}: expected the shared data folder beside the repository (<repo>/../shared/data/tinyshakespeare.txt)`);
  }
  return readFileSync(path, 'utf8');
}

const contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];
const cases = (c: string) => [c, c.toUpperCase(), c.length === 3 ? c[0] + c[1].toUpperCase() + c[2] : c, c.length === 3 ? c[0] + c[1] + c[2].toUpperCase() : c];

/** Strings where split patterns and byte-level merges go wrong if anything is off. */
export const TRICKY: string[] = [
  '',
  'a',
  'Hello, world!',
  // contractions in every case, after letters, spaces and digits
  ...contractions.flatMap((c) => cases(c).map((v) => `he${v} she${v} it${v} 1${v} ${v} ${v}x`)),
  "I'm, you're, we've, they'll, he'd, she's, it's, don't, DON'T, Don'T, y'all, rock'n'roll, '''",
  "O'Neill's ma'am ’s curly’s",
  "'ſ 'K 'İ", // letters that fold to s/k/i under Unicode case folding
  // whitespace runs, tabs, newlines, carriage returns
  ' ', '  ', '   leading', 'trailing   ', 'a  b   c    d',
  '\t', '\t\tx', 'x\t\t', 'a\n', '\n\n\n', 'a\n\n  b', 'a \n b', 'line\r\nline\r\n', ' \r\n \r\n\r\n  ', 'a \t\n\u00a0\u2003b',
  'end with space ', 'end with newline\n', 'end with both \n ', '\u3000full-width space',
  // digits
  '1', '12', '123', '1234', '12345', '123456', ' 1 12 123 1234 12345 123456', 'x1234567y', '3.14159', '1,000,000', '٠١٢٣٤٥٦', '①②③ ½',
  // accents and combining marks
  'café naïve résumé Ångström', 'cafe\u0301 nai\u0308ve', 'Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319algo', 'e\u0301\u0301\u0301',
  // scripts
  '日本語のテキストです。中文字符测试，한국어 텍스트', 'مرحبا بالعالم، كيف حالك؟ ١٢٣', 'שָׁלוֹם עולם', 'Привет, мир! Ёжик', 'नमस्ते दुनिया', 'สวัสดีครับ', 'Ἐν ἀρχῇ ἦν ὁ λόγος',
  // emoji: ZWJ sequences, skin tones, flags, keycaps, variation selectors
  '👋', '👋🏽 hi 👍🏿👍🏻', '👨‍👩‍👧‍👦 family', '🏳️‍🌈 🏴‍☠️', '🇫🇷🇯🇵🇺🇸', '1️⃣ #️⃣', '❤️ ❤︎', '🧑🏾‍💻🤷‍♀️', '😀😃😄😁😆😅🤣😂🙂🙃',
  // punctuation runs, code, symbols
  '!!!???...', '---===+++', 'foo(bar[0]) { return x->y; } // ok', '<html><body>&amp;</body></html>', '$$$ €100 £5 ¥¥', '\u0000\u0001\u007f control',
  // special token text as plain text
  '<|endoftext|>', 'a<|endoftext|>b', '<|endoftext|><|endoftext|>', '<|endoftext', '<|fim_prefix|>x<|fim_suffix|>',
  // invisible and odd characters
  'zero\u200bwidth', 'soft\u00adhyphen', 'bom\ufeffmark', '\ufffd replacement', 'rtl \u202eevil\u202c',
  // long runs
  'a'.repeat(500), ' '.repeat(300), '\n'.repeat(100), 'ab'.repeat(300), '🙂'.repeat(100), '9'.repeat(70),
];

/** Strings that are not valid UTF-16 (lone surrogates): encoded as U+FFFD. */
export const LONE_SURROGATES: string[] = ['\ud800', 'a\udc00b', 'x\ud83d', '\ud83d\ud83d\ude00', ' \udfff '];
