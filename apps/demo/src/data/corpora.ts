// The texts the Train view can learn, as strings (pure; no bundler imports).

/** Shuffle the lines of a corpus with a seeded generator so train and val splits see the same kind of text. */
export function shuffleLines(text: string, random: () => number): string {
  const lines = text.split('\n').filter((l) => l.length > 0);
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [lines[i], lines[j]] = [lines[j], lines[i]];
  }
  return `${lines.join('\n')}\n`;
}
