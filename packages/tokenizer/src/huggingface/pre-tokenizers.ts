// Pre-tokenizers: cut each stretch of normalized text into the pieces that BPE
// merges within (a merge never crosses two pieces). As in Hugging Face, a
// pre-tokenizer splits every piece it is given, and each split says what
// happens to the matches of its pattern (the "behavior"):
//
//   "a  b" split on spaces:  Isolated  "a" " " " " "b"     Removed  "a" "b"
//                            MergedWithPrevious "a " " " "b"
//                            MergedWithNext     "a" " " " b"
//                            Contiguous         "a" "  " "b"
//
// Supported: ByteLevel (GPT-2's regex when use_regex, add_prefix_space),
// Split (a string or regex, any behavior, invert), Metaspace (spaces become
// "▁"; prepend_scheme first/always/never; split on "▁" or not), Digits and
// Sequence. ByteLevel must come last: after it the model sees bytes, which we
// encode from each piece's UTF-8 (its vocabulary spells them as GPT-2's
// bytes_to_unicode). Any other type is one error naming it.
import { TokenizerError } from '../errors.js';
import { compilePattern } from '../patterns.js';
import { forEachPiece } from '../scan.js';
import { describeValue, expectArray, expectObject, expectString } from '../validate.js';
import { BYTE_LEVEL_PATTERN, hfRegex } from './regex.js';

/** Receives each piece; `first` when it starts the original text (Metaspace's prepend_scheme "first" asks). */
export type Emit = (piece: string, first: boolean) => void;
type Step = (piece: string, first: boolean, emit: Emit) => void;

/** The pre-tokenizer: a piece in, smaller pieces out; byteLevel when the model then sees UTF-8 bytes. */
export interface PreTokenizer {
  split: (piece: string, first: boolean, emit: Emit) => void;
  byteLevel: boolean;
}

type Behavior = 'Isolated' | 'Removed' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';
const BEHAVIORS: readonly string[] = ['Isolated', 'Removed', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];
/** [start, end, isMatch]: the spans of a text, matches and the text between them, end to end. */
type Span = [number, number, boolean];
const SUPPORTED = 'ByteLevel, Split, Metaspace, Digits, Sequence';

/** The pre-tokenizer a tokenizer.json's `pre_tokenizer` field describes (null: the whole stretch is one piece). */
export function parsePreTokenizer(json: unknown, trustPattern = false): PreTokenizer {
  if (json === null || json === undefined) return { split: (piece, first, emit) => emit(piece, first), byteLevel: false };
  // A Sequence (of Sequences) is its steps in order, each named by its path in the file.
  const steps: [Record<string, unknown>, string][] = [];
  const flatten = (step: Record<string, unknown>, where: string): void => {
    if (step.type !== 'Sequence') steps.push([step, where]);
    else expectArray(step.pretokenizers, `${where}.pretokenizers`).forEach((s, i) => flatten(expectObject(s, `${where}.pretokenizers[${i}]`), `${where}.pretokenizers[${i}]`));
  };
  flatten(expectObject(json, 'pre_tokenizer'), 'pre_tokenizer');
  const splits = steps.map(([step, where], i) => {
    if (step.type === 'ByteLevel' && i !== steps.length - 1) throw new TokenizerError(`${where}: expected ByteLevel to be the last pre-tokenizer, found ${describeValue(steps[i + 1][0].type)} after it`);
    return parseStep(step, where, trustPattern);
  });
  if (splits.length === 0) return parsePreTokenizer(null);
  return {
    // Each step passes its pieces straight on to the next (no arrays in between).
    split: (piece, first, emit) => {
      let next = emit;
      for (let i = splits.length - 1; i > 0; i--) {
        const [step, after] = [splits[i], next];
        next = (p, f) => step(p, f, after);
      }
      splits[0](piece, first, next);
    },
    byteLevel: steps.some(([s]) => s.type === 'ByteLevel'),
  };
}

function parseStep(step: Record<string, unknown>, where: string, trustPattern: boolean): Step {
  switch (step.type) {
    case 'ByteLevel': {
      const prefix = flag(step.add_prefix_space, `${where}.add_prefix_space`, false);
      const regex = flag(step.use_regex, `${where}.use_regex`, true) ? compilePattern(BYTE_LEVEL_PATTERN) : null;
      return (piece, first, emit) => {
        const p = prefix && !piece.startsWith(' ') ? ` ${piece}` : piece;
        if (regex) isolate(p, first, regex, emit);
        else emit(p, first);
      };
    }
    case 'Split': {
      const pattern = expectObject(step.pattern, `${where}.pattern`);
      const behavior = expectString(step.behavior, `${where}.behavior`) as Behavior;
      if (!BEHAVIORS.includes(behavior)) throw new TokenizerError(`${where}.behavior: expected one of ${BEHAVIORS.join(', ')}, found ${describeValue(behavior)}`);
      const invert = flag(step.invert, `${where}.invert`, false);
      const source =
        typeof pattern.String === 'string'
          ? pattern.String.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')
          : hfRegex(expectString(pattern.Regex, `${where}.pattern.Regex`), `${where}.pattern`, trustPattern);
      if (source === '') throw new TokenizerError(`${where}.pattern: expected a non-empty pattern, found ""`);
      const regex = compilePattern(source);
      if (behavior === 'Isolated') return (piece, first, emit) => isolate(piece, first, regex, emit); // matches and the text between alike
      return (piece, first, emit) => {
        const spans = regexSpans(piece, regex);
        splitPiece(piece, first, invert ? spans.map(([a, b, m]) => [a, b, !m]) : spans, behavior, emit);
      };
    }
    case 'Metaspace': {
      const replacement = expectString(step.replacement ?? '▁', `${where}.replacement`, true);
      // Files before tokenizers 0.19 say add_prefix_space (true means "always") instead of prepend_scheme.
      const scheme = step.prepend_scheme ?? (flag(step.add_prefix_space, `${where}.add_prefix_space`, true) ? 'always' : 'never');
      if (scheme !== 'first' && scheme !== 'always' && scheme !== 'never') throw new TokenizerError(`${where}.prepend_scheme: expected "first", "always" or "never", found ${describeValue(scheme)}`);
      const split = flag(step.split, `${where}.split`, true);
      return (piece, first, emit) => {
        let text = piece.replaceAll(' ', replacement);
        if (!text.startsWith(replacement) && (scheme === 'always' || (scheme === 'first' && first))) text = replacement + text;
        if (split) splitPiece(text, first, charSpans(text, (c) => c === replacement), 'MergedWithNext', emit);
        else emit(text, first);
      };
    }
    case 'Digits': {
      const individual = flag(step.individual_digits, `${where}.individual_digits`, false);
      // Each digit (Isolated) or each run of digits (Contiguous) is a piece, and so is the text between:
      // one regex scan, not a test per character.
      const digits = compilePattern(individual ? '\\p{N}' : '\\p{N}+');
      return (piece, first, emit) => isolate(piece, first, digits, emit);
    }
    default:
      throw new TokenizerError(`${where}.type: expected a supported pre-tokenizer (${SUPPORTED}), found ${describeValue(step.type)}`);
  }
}

function flag(value: unknown, where: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new TokenizerError(`${where}: expected true or false, found ${describeValue(value)}`);
  return value;
}

/** Split Isolated: each match of the regex and each stretch between matches is a piece. */
function isolate(text: string, first: boolean, regex: RegExp, emit: Emit): void {
  let prev = 0;
  forEachPiece(text, 0, text.length, regex, (match, at) => {
    if (at > prev) emit(text.slice(prev, at), first && prev === 0);
    emit(match, first && at === 0);
    prev = at + match.length;
  });
  if (prev < text.length) emit(text.slice(prev), first && prev === 0);
}

/** The regex's matches and the text between them. */
function regexSpans(text: string, regex: RegExp): Span[] {
  const spans: Span[] = [];
  let prev = 0;
  forEachPiece(text, 0, text.length, regex, (match, at) => {
    if (at > prev) spans.push([prev, at, false]);
    spans.push([at, at + match.length, true]);
    prev = at + match.length;
  });
  if (prev < text.length) spans.push([prev, text.length, false]);
  return spans;
}

/** Each character the test accepts is a match of its own. */
function charSpans(text: string, test: (char: string) => boolean): Span[] {
  const spans: Span[] = [];
  let prev = 0;
  for (let i = 0; i < text.length; ) {
    const char = String.fromCodePoint(text.codePointAt(i)!);
    if (test(char)) {
      if (i > prev) spans.push([prev, i, false]);
      spans.push([i, i + char.length, true]);
      prev = i + char.length;
    }
    i += char.length;
  }
  if (prev < text.length) spans.push([prev, text.length, false]);
  return spans;
}

/** Cut a piece at the spans, as the behavior says; empty pieces are dropped (NormalizedString::split). */
function splitPiece(text: string, first: boolean, spans: Span[], behavior: Behavior, emit: Emit): void {
  const cut: [number, number][] = [];
  let previousMatch = false;
  if (behavior === 'MergedWithNext') {
    for (let i = spans.length - 1; i >= 0; i--) {
      const [a, b, match] = spans[i];
      if (match && !previousMatch && cut.length > 0) cut[cut.length - 1][0] = a;
      else cut.push([a, b]);
      previousMatch = match;
    }
    cut.reverse();
  } else {
    for (const [a, b, match] of spans) {
      if (behavior === 'Removed' && match) {
        previousMatch = match;
        continue;
      }
      const merge = behavior === 'Contiguous' ? match === previousMatch : behavior === 'MergedWithPrevious' && match && !previousMatch;
      if (merge && cut.length > 0) cut[cut.length - 1][1] = b;
      else cut.push([a, b]);
      previousMatch = match;
    }
  }
  for (const [a, b] of cut) if (b > a) emit(text.slice(a, b), first && a === 0);
}
