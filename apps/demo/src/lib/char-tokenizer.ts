// A character tokenizer in the nanoGPT convention: the vocabulary is the
// sorted distinct characters of the training text. It reads and writes the
// JSON that checkpoints carry in tokenizer.json ({ kind: "char", chars }).

export interface CharTokenizerJSON { kind: 'char'; chars: string[] }

export class CharTokenizer {
  readonly chars: string[];
  private readonly index: Map<string, number>;

  constructor(chars: readonly string[]) {
    this.chars = [...chars];
    this.index = new Map(this.chars.map((c, i) => [c, i]));
  }

  static fromText(text: string): CharTokenizer {
    return new CharTokenizer([...new Set([...text])].sort());
  }

  static fromJSON(json: unknown): CharTokenizer {
    const o = json as Partial<CharTokenizerJSON> & { vocab?: unknown };
    const chars = Array.isArray(o?.chars) ? o.chars : Array.isArray(o?.vocab) ? o.vocab : null;
    if (!chars || !chars.every((c) => typeof c === 'string')) throw new Error('tokenizer.json: expected { kind: "char", chars: [...] }');
    return new CharTokenizer(chars as string[]);
  }

  get vocabSize(): number { return this.chars.length; }

  /** Characters not in the vocabulary are dropped (and counted), so any text can be inspected. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const c of text) {
      const id = this.index.get(c);
      if (id !== undefined) ids.push(id);
    }
    return ids;
  }

  unknown(text: string): string[] {
    return [...new Set([...text].filter((c) => !this.index.has(c)))];
  }

  decode(ids: readonly number[]): string {
    return ids.map((i) => this.chars[i] ?? '').join('');
  }

  toJSON(): CharTokenizerJSON { return { kind: 'char', chars: this.chars }; }
}
