// Is a split pattern from a file safe to run? JS regexes backtrack: `(a+)+$`
// takes exponential time on "aaaa...!" (60 characters ran past 45 s), and a
// tokenizer file is data anyone can write. This is a small static check that
// is conservative: it refuses some safe patterns, never knowingly a slow one.
// What it proves: each match attempt makes no choice it has to revisit more
// than a constant number of times, and reads at most a constant number of
// characters past what the match then consumes, so splitting a text costs
// O(text length x pattern length). The rules, on the parsed pattern:
//
// 1. No backreferences (`\1`, `\k<n>`): matching them is NP-hard.
// 2. A repeated group (`(...)*`, `(...)+`, `(...){2,5}`, `(...)?`) holds a
//    fixed string only, no quantifier and no `|` inside: this is the nested
//    quantifier of `(a+)+`, `(a|a)*` and `(\w+\s?)*`.
// 3. Choices are decided by the next character. Where an optional or
//    repeated part X can stop, X and what follows it cannot start with the
//    same character (refuses `\s*\s*x` and `a?a?a?aaa`). The branches of a
//    `|` start with different characters and none matches the empty string,
//    unless nothing but the end of the match follows the `|` (the pattern's
//    top-level alternatives, GPT-2's `'s|'t|...`): those are tried one after
//    another, at a cost that adds up rather than multiplies.
// 4. An unbounded repeat (`*`, `+`, `{n,}`) is followed only by optional
//    parts, which cannot fail: `[^x]+x` reads to the end of the text and
//    fails, at every position (quadratic). The one exception ends a
//    top-level alternative: a repeat of one character class, then a negative
//    lookahead for one class it cannot match, GPT-2's `\s+(?!\S)` (it gives
//    back one character at most).
// 5. Lookarounds hold no quantifiers; counted repeats go up to 16; the
//    pattern is at most 1000 characters.
//
// "Can start with the same character" is decided on over-approximated sets:
// every character is a letter (\p{L}), a number (\p{N}), whitespace (\s) or
// other, and a class is the categories it may touch plus the literal
// characters it names (so [sS] and [dD] are disjoint, \p{L} and \s are, but a
// script like \p{Han} is taken to touch everything).
//
// GPT-2's pattern and Hugging Face's Whitespace pattern pass; cl100k's does
// not (`\s*[\r\n]` breaks rule 3), and is safe for reasons the rules cannot
// see, so it is accepted by name (see patterns.ts).

const L = 1;
const N = 2;
const S = 4;
const O = 8;
const ALL = L | N | S | O;

/**
 * The characters a piece of pattern may match: the categories it may touch,
 * those it surely covers whole, characters it surely has (`chars`) and
 * characters it surely lacks (`except`, from [^...]).
 */
interface CharSet {
  may: number;
  full: number;
  chars: ReadonlySet<number>;
  except: ReadonlySet<number>;
}

const set = (may: number, full = 0, chars: Iterable<number> = [], except: Iterable<number> = []): CharSet => ({ may, full, chars: new Set(chars), except: new Set(except) });
const NOTHING = set(0);

const categories = new Map<number, number>();
function category(cp: number): number {
  let c = categories.get(cp);
  if (c === undefined) {
    const ch = String.fromCodePoint(cp);
    c = /\p{L}/u.test(ch) ? L : /\p{N}/u.test(ch) ? N : /\s/u.test(ch) ? S : O;
    categories.set(cp, c);
  }
  return c;
}

/** c is surely not in s. */
const lacks = (s: CharSet, c: number) => s.except.has(c) || (!(category(c) & s.may) && !s.chars.has(c));

function union(a: CharSet, b: CharSet): CharSet {
  const except = [...a.except, ...b.except].filter((c) => lacks(a, c) && lacks(b, c));
  return set(a.may | b.may, a.full | b.full, [...a.chars, ...b.chars], except);
}

function complement(a: CharSet): CharSet {
  let touched = a.may;
  for (const c of a.chars) touched |= category(c);
  return set(ALL & ~a.full, ALL & ~touched, a.except, a.chars);
}

function overlaps(a: CharSet, b: CharSet): boolean {
  if (a.may & b.may) return true;
  for (const c of a.chars) if (!lacks(b, c)) return true;
  for (const c of b.chars) if (!lacks(a, c)) return true;
  return false;
}

const range = (lo: number, hi: number) => (hi - lo < 256 ? set(0, 0, Array.from({ length: hi - lo + 1 }, (_, i) => lo + i)) : set(ALL));
const DIGITS = range(0x30, 0x39);
const WORD = union(union(range(0x41, 0x5a), range(0x61, 0x7a)), union(DIGITS, set(0, 0, [0x5f])));
const SPACE = set(S, S);
const DOT = complement(set(0, 0, [0x0a, 0x0d, 0x2028, 0x2029]));

// \p{...}: General_Category values whose category we know; anything else (scripts, Emoji, ...) may be anything.
const PROPERTIES: Record<string, CharSet> = {};
const name = (names: string, s: CharSet) => names.split(' ').forEach((n) => (PROPERTIES[n] = s));
name('L Letter', set(L, L));
name('Lu Ll Lt Lm Lo LC Cased_Letter Uppercase_Letter Lowercase_Letter Titlecase_Letter Modifier_Letter Other_Letter', set(L));
name('N Number', set(N, N));
name('Nd Nl No Decimal_Number digit Letter_Number Other_Number', set(N));
name('Z Separator Zs Space_Separator Zl Line_Separator Zp Paragraph_Separator', set(S));
name('M Mark Combining_Mark Mn Mc Me Nonspacing_Mark Spacing_Mark Enclosing_Mark', set(O));
name('P Punctuation punct Pc Pd Ps Pe Pi Pf Po Connector_Punctuation Dash_Punctuation Open_Punctuation Close_Punctuation', set(O));
name('Initial_Punctuation Final_Punctuation Other_Punctuation S Symbol Sm Sc Sk So Math_Symbol Currency_Symbol Modifier_Symbol Other_Symbol', set(O));

type Node =
  | { kind: 'char'; set: CharSet; at: number }
  | { kind: 'seq'; items: Node[]; at: number }
  | { kind: 'alt'; branches: Node[]; at: number }
  | { kind: 'repeat'; body: Node; min: number; max: number; at: number }
  | { kind: 'assert'; at: number }
  | { kind: 'look'; body: Node; negative: boolean; behind: boolean; at: number }
  | { kind: 'backref'; at: number };

/** Why a pattern is refused: what, where, and what it can cost. */
class Refusal {
  constructor(
    readonly what: string,
    readonly at: number,
    readonly cost: string,
  ) {}
}

const EXPONENTIAL = 'which can take exponential time';
const QUADRATIC = 'which can take time quadratic in the text';
const MAX_COUNT = 16;
export const MAX_PATTERN_LENGTH = 1000;

// ---- parsing (the "u" flag's syntax; the pattern has already compiled) ------

class Parser {
  i = 0;
  constructor(private readonly src: string) {}

  private unknown(): never {
    throw new Refusal('syntax the check does not know', this.i, 'which it cannot vouch for');
  }

  parse(): Node {
    const node = this.disjunction();
    if (this.i < this.src.length) this.unknown();
    return node;
  }

  private disjunction(): Node {
    const at = this.i;
    const branches = [this.alternative()];
    while (this.src[this.i] === '|') {
      this.i++;
      branches.push(this.alternative());
    }
    return branches.length === 1 ? branches[0] : { kind: 'alt', branches, at };
  }

  private alternative(): Node {
    const at = this.i;
    const items: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') items.push(this.term());
    return { kind: 'seq', items, at };
  }

  private term(): Node {
    const at = this.i;
    const body = this.atom();
    const c = this.src[this.i];
    let min: number;
    let max: number;
    if (c === '*' || c === '+' || c === '?') {
      [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
      this.i++;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i, this.i + 40));
      if (!m) this.unknown();
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      this.i += m[0].length;
    } else return body;
    if (this.src[this.i] === '?') this.i++; // lazy: the same choices, tried in the other order
    return { kind: 'repeat', body, min, max, at };
  }

  private atom(): Node {
    const at = this.i;
    const c = this.src[this.i];
    if (c === '(') return this.group();
    if (c === '^' || c === '$') {
      this.i++;
      return { kind: 'assert', at };
    }
    if (c === '.') {
      this.i++;
      return { kind: 'char', set: DOT, at };
    }
    if (c === '[') return { kind: 'char', set: this.charClass(), at };
    if (c === '\\') return this.escape(at);
    return { kind: 'char', set: set(0, 0, [this.literal()]), at };
  }

  private group(): Node {
    const at = this.i;
    const head = /^\((\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>))?/.exec(this.src.slice(this.i, this.i + 80))![0];
    if (this.src[this.i + 1] === '?' && head === '(') this.unknown(); // (?i:...) and other group syntax
    this.i += head.length;
    const body = this.disjunction();
    if (this.src[this.i] !== ')') this.unknown();
    this.i++;
    const look = head.slice(1);
    if (look === '?=' || look === '?!' || look === '?<=' || look === '?<!') {
      return { kind: 'look', body, negative: look.endsWith('!'), behind: look.startsWith('?<'), at };
    }
    return body;
  }

  private escape(at: number): Node {
    const c = this.src[this.i + 1];
    if (c === 'b' || c === 'B') {
      this.i += 2;
      return { kind: 'assert', at };
    }
    if ((c >= '1' && c <= '9') || c === 'k') {
      this.i += 2;
      return { kind: 'backref', at };
    }
    const cls = this.classEscape();
    if (cls) return { kind: 'char', set: cls, at };
    return { kind: 'char', set: set(0, 0, [this.characterEscape()]), at };
  }

  /** \d \D \s \S \w \W \p{..} \P{..}, or null for another escape. */
  private classEscape(): CharSet | null {
    const c = this.src[this.i + 1];
    const simple: Record<string, CharSet> = { d: DIGITS, s: SPACE, w: WORD };
    if (simple[c.toLowerCase()]) {
      this.i += 2;
      const s = simple[c.toLowerCase()];
      return c === c.toLowerCase() ? s : complement(s);
    }
    if (c === 'p' || c === 'P') {
      const end = this.src.indexOf('}', this.i);
      if (this.src[this.i + 2] !== '{' || end === -1) this.unknown();
      const body = this.src.slice(this.i + 3, end);
      this.i = end + 1;
      const value = body.replace(/^(gc|General_Category)=/, '');
      const s = PROPERTIES[value] ?? set(ALL);
      return c === 'p' ? s : complement(s);
    }
    return null;
  }

  /** The code point of an escape that stands for one character (\n, \x41, \u{1F600}, \., ...). */
  private characterEscape(): number {
    const c = this.src[this.i + 1];
    const start = this.i;
    this.i += 2;
    const named: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13, '0': 0, b: 8 };
    if (c in named) return named[c];
    if (c === 'c') return this.src.charCodeAt(this.i++) % 32;
    const hex = (n: number) => {
      const h = this.src.slice(this.i, this.i + n);
      if (!/^[0-9a-fA-F]+$/.test(h) || h.length !== n) this.unknown();
      this.i += n;
      return parseInt(h, 16);
    };
    if (c === 'x') return hex(2);
    if (c === 'u') {
      if (this.src[this.i] === '{') {
        const end = this.src.indexOf('}', this.i);
        const cp = parseInt(this.src.slice(this.i + 1, end), 16);
        this.i = end + 1;
        return cp;
      }
      const lead = hex(4);
      if (lead >= 0xd800 && lead <= 0xdbff && /^\\u[dD][c-fC-F][0-9a-fA-F]{2}/.test(this.src.slice(this.i, this.i + 6))) {
        this.i += 2;
        return 0x10000 + ((lead - 0xd800) << 10) + (hex(4) - 0xdc00);
      }
      return lead;
    }
    this.i = start + 1;
    return this.literal(); // \. \* \/ \- ...: the character itself
  }

  private literal(): number {
    const cp = this.src.codePointAt(this.i)!;
    this.i += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private charClass(): CharSet {
    this.i++;
    const negate = this.src[this.i] === '^';
    if (negate) this.i++;
    let acc = NOTHING;
    while (this.src[this.i] !== ']') {
      if (this.i >= this.src.length) this.unknown();
      const a = this.classAtom();
      if (this.src[this.i] === '-' && this.src[this.i + 1] !== ']' && typeof a === 'number') {
        this.i++;
        const b = this.classAtom();
        if (typeof b !== 'number') this.unknown();
        acc = union(acc, range(a, b));
      } else acc = union(acc, typeof a === 'number' ? set(0, 0, [a]) : a);
    }
    this.i++;
    return negate ? complement(acc) : acc;
  }

  /** One class member: a code point, or a set for \d, \p{L}, .... */
  private classAtom(): number | CharSet {
    if (this.src[this.i] !== '\\') return this.literal();
    return this.classEscape() ?? this.characterEscape();
  }
}

// ---- the rules ------------------------------------------------------------

interface Info {
  /** Characters a match can start with. */
  first: CharSet;
  /** Can match the empty string. */
  nullable: boolean;
  /** Can match the empty string without a check that could fail (no assertion on the way). */
  safe: boolean;
}

const infos = new WeakMap<Node, Info>();

/** A node's Info, computed once per node (check asks for it at every level of nesting). */
function info(node: Node): Info {
  let i = infos.get(node);
  if (!i) infos.set(node, (i = computeInfo(node)));
  return i;
}

function computeInfo(node: Node): Info {
  switch (node.kind) {
    case 'char':
      return { first: node.set, nullable: false, safe: false };
    case 'assert':
    case 'look':
    case 'backref':
      return { first: NOTHING, nullable: true, safe: false };
    case 'repeat': {
      const body = info(node.body);
      return { first: body.first, nullable: node.min === 0 || body.nullable, safe: node.min === 0 || body.safe };
    }
    case 'alt': {
      const parts = node.branches.map(info);
      return { first: parts.reduce((a, p) => union(a, p.first), NOTHING), nullable: parts.some((p) => p.nullable), safe: parts.some((p) => p.safe) };
    }
    case 'seq': {
      let first = NOTHING;
      let nullable = true;
      let safe = true;
      for (const item of node.items) {
        const i = info(item);
        if (nullable) first = union(first, i.first);
        nullable &&= i.nullable;
        safe &&= i.safe;
      }
      return { first, nullable, safe };
    }
  }
}

/** What comes after a node, up to the end of the match. */
interface Follow {
  first: CharSet;
  safe: boolean;
  /** Nothing follows: the node ends the match. */
  end: boolean;
}

const END: Follow = { first: NOTHING, safe: true, end: true };

const singleSet = (node: Node): CharSet | null =>
  node.kind === 'char' ? node.set : node.kind === 'seq' && node.items.length === 1 ? singleSet(node.items[0]) : null;

/** GPT-2's `\s+(?!\S)`: a repeat of one class, then a negative lookahead for one class it cannot match. */
function isGuard(repeat: Node, look: Node): boolean {
  if (repeat.kind !== 'repeat' || look.kind !== 'look' || !look.negative || look.behind) return false;
  const a = singleSet(repeat.body);
  const b = singleSet(look.body);
  return a !== null && b !== null && !overlaps(a, b);
}

function firstInner(node: Node, kinds: Node['kind'][]): Node | null {
  if (kinds.includes(node.kind)) return node;
  const children = node.kind === 'seq' ? node.items : node.kind === 'alt' ? node.branches : node.kind === 'repeat' || node.kind === 'look' ? [node.body] : [];
  for (const child of children) {
    const found = firstInner(child, kinds);
    if (found) return found;
  }
  return null;
}

function check(node: Node, follow: Follow): void {
  switch (node.kind) {
    case 'char':
    case 'assert':
      return;
    case 'backref':
      throw new Refusal('a backreference', node.at, EXPONENTIAL);
    case 'look': {
      const q = firstInner(node.body, ['repeat']);
      if (q) throw new Refusal('a quantifier inside a lookaround', q.at, QUADRATIC);
      check(node.body, END); // lookarounds are atomic in JS: their first success is final
      return;
    }
    case 'seq': {
      let f = follow;
      for (let k = node.items.length - 1; k >= 0; k--) {
        const item = node.items[k];
        const guarded = follow.end && k === node.items.length - 2 && isGuard(item, node.items[k + 1]);
        check(item, guarded ? { first: NOTHING, safe: true, end: false } : f);
        const i = info(item);
        f = { first: i.nullable ? union(i.first, f.first) : i.first, safe: i.safe && f.safe, end: false };
      }
      return;
    }
    case 'alt': {
      if (!follow.end) {
        const parts = node.branches.map(info);
        if (parts.some((p) => p.nullable)) throw new Refusal('an alternation with a branch that can match the empty string', node.at, EXPONENTIAL);
        for (let a = 0; a < parts.length; a++) {
          for (let b = a + 1; b < parts.length; b++) {
            if (overlaps(parts[a].first, parts[b].first)) throw new Refusal('an alternation whose branches can start with the same character', node.at, EXPONENTIAL);
          }
        }
      }
      for (const branch of node.branches) check(branch, follow);
      return;
    }
    case 'repeat': {
      const inner = firstInner(node.body, ['repeat', 'alt', 'backref']);
      if (inner?.kind === 'repeat') throw new Refusal('a nested quantifier', inner.at, EXPONENTIAL);
      if (inner?.kind === 'alt') throw new Refusal('an alternation inside a repeated group', inner.at, EXPONENTIAL);
      if (node.min > MAX_COUNT || (node.max > MAX_COUNT && node.max !== Infinity)) {
        throw new Refusal(`a counted repeat above ${MAX_COUNT}`, node.at, QUADRATIC);
      }
      const body = info(node.body);
      if (node.min < node.max && overlaps(body.first, follow.first)) {
        throw new Refusal('an optional or repeated part that can match the same character as what follows it', node.at, EXPONENTIAL);
      }
      if (node.max === Infinity && !follow.safe) throw new Refusal('a repeat followed by a part that can fail', node.at, QUADRATIC);
      check(node.body, { first: union(body.first, follow.first), safe: false, end: false });
      return;
    }
  }
}

/**
 * Why a split pattern (JS source, "u" flag, already known to compile) could
 * take more than linear time, as "has <what> at offset <n>, which can take
 * <cost>"; or null when it passes the rules above.
 */
export function patternProblem(source: string): string | null {
  if (source.length > MAX_PATTERN_LENGTH) return `is longer than ${MAX_PATTERN_LENGTH} characters (${source.length})`;
  try {
    check(new Parser(source).parse(), END);
    return null;
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    return `has ${err.what} at offset ${err.at}, ${err.cost}`;
  }
}
