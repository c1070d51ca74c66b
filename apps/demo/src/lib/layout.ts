// Where the tokens sit: two columns, queries on the left and keys on the
// right, as bertviz's head view. Rows shrink with the input so that 256+
// tokens fit the view; labels are drawn only where a row is tall enough to
// read, and hovering names the token under the pointer.

export interface Layout {
  width: number;
  height: number;
  rowHeight: number;
  top: number;
  leftX: number;
  rightX: number;
  /** Width reserved for labels on each side. */
  labelWidth: number;
  showLabels: boolean;
  fontSize: number;
  rows: number;
}

export interface LayoutOptions {
  width: number;
  /** Most height the view may take (default 640). */
  maxHeight?: number;
  maxRowHeight?: number;
  minRowHeight?: number;
  labelWidth?: number;
  /** Rows in the right column when it differs (cross-attention). */
  keys?: number;
}

export function layoutColumns(tokens: number, opts: LayoutOptions): Layout {
  const rows = Math.max(tokens, opts.keys ?? tokens, 1);
  const maxHeight = opts.maxHeight ?? 640;
  const top = 8;
  const rowHeight = Math.max(opts.minRowHeight ?? 2, Math.min(opts.maxRowHeight ?? 22, (maxHeight - 2 * top) / rows));
  const labelWidth = opts.labelWidth ?? Math.min(140, Math.max(60, opts.width * 0.22));
  const showLabels = rowHeight >= 9;
  return {
    width: opts.width,
    height: Math.ceil(rows * rowHeight + 2 * top),
    rowHeight,
    top,
    leftX: labelWidth,
    rightX: opts.width - labelWidth,
    labelWidth,
    showLabels,
    fontSize: Math.max(8, Math.min(14, rowHeight * 0.72)),
    rows,
  };
}

/** The y of a token's row centre. */
export function rowY(layout: Layout, index: number): number {
  return layout.top + (index + 0.5) * layout.rowHeight;
}

/** The token under a point, and which column, or null. */
export function hitTest(layout: Layout, x: number, y: number, counts: { left: number; right: number }): { token: number; side: 'left' | 'right' } | null {
  const index = Math.floor((y - layout.top) / layout.rowHeight);
  if (index < 0) return null;
  if (x <= layout.leftX + 4 && index < counts.left) return { token: index, side: 'left' };
  if (x >= layout.rightX - 4 && index < counts.right) return { token: index, side: 'right' };
  return null;
}
