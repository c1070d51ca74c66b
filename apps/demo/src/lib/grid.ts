// Where the grid of every layer x head sits: one canvas, a row per layer and
// a column per head, labels on the left and on top. One image instead of a
// canvas per cell: GPT-2 has 144 heads.

export interface GridLayout {
  layers: number;
  heads: number;
  /** Side of a cell, and the gap between cells, in CSS pixels. */
  cell: number;
  gap: number;
  /** Room for the labels: "layer 11" on the left, "head 11" on top. */
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Cells as large as `width` allows, between 24 and 120 px; `kvRow` adds a row of labels above the heads ("KV 0" over the heads sharing it). */
export function layoutGrid(layers: number, heads: number, width: number, { kvRow = false }: { kvRow?: boolean } = {}): GridLayout {
  const left = 60, top = kvRow ? 38 : 18, gap = 6;
  const cell = Math.max(24, Math.min(120, Math.floor((width - left) / Math.max(1, heads)) - gap));
  return { layers, heads, cell, gap, left, top, width: left + heads * (cell + gap), height: top + layers * (cell + gap) };
}

/** The top-left corner of a cell. */
export function cellOrigin(g: GridLayout, layer: number, head: number): { x: number; y: number } {
  return { x: g.left + head * (g.cell + g.gap), y: g.top + layer * (g.cell + g.gap) };
}

/** The cell under a point (not its gap), or null. */
export function hitCell(g: GridLayout, x: number, y: number): { layer: number; head: number } | null {
  const head = Math.floor((x - g.left) / (g.cell + g.gap)), layer = Math.floor((y - g.top) / (g.cell + g.gap));
  if (head < 0 || head >= g.heads || layer < 0 || layer >= g.layers) return null;
  const o = cellOrigin(g, layer, head);
  return x - o.x < g.cell && y - o.y < g.cell ? { layer, head } : null;
}

/** Query heads grouped by the KV head they share, in order: [[0, 1], [2, 3]] for 4 heads over 2 KV heads. */
export function kvGroups(kvHeads: readonly number[]): Array<{ kv: number; heads: number[] }> {
  const groups: Array<{ kv: number; heads: number[] }> = [];
  kvHeads.forEach((kv, head) => {
    const last = groups.at(-1);
    if (last && last.kv === kv) last.heads.push(head);
    else groups.push({ kv, heads: [head] });
  });
  return groups;
}

/** "KV 0: heads 0–1; KV 1: heads 2–3", for the grid's label. */
export function describeKvGroups(kvHeads: readonly number[]): string {
  return kvGroups(kvHeads).map((g) => `KV ${g.kv}: ${g.heads.length > 1 ? `heads ${g.heads[0]}–${g.heads.at(-1)}` : `head ${g.heads[0]}`}`).join('; ');
}
