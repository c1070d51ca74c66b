// Rotary position embedding (RoPE) in Hugging Face's rotate-half layout, one
// pass over x instead of tfjs's split, concat, two multiplies and an add (and
// their gradients). Row r of x [rows, d] sits at table row r % T:
//
//   y[c] = x[c] cos[t, c] + x[c ± d/2] sin[t, c]   (the table's sin carries rotate-half's minus)
//
// The backward pass multiplies by the transpose: dx[c] = dy[c] cos[t, c] +
// dy[c ± d/2] sin[t, c ± d/2] (transpose), the inverse rotation for RoPE's
// tables, and exact for any tables.

/** y = RoPE(x) (or its transpose) for rows first <= r < last of x [rows, d], tables cos and sin [T, d]. */
export function rope(x: usize, cos: usize, sin: usize, y: usize, T: i32, d: i32, transpose: bool, first: i32, last: i32): void {
  const half = d >> 1;
  for (let r = first; r < last; r++) {
    const row = <usize>r * d << 2;
    const table = <usize>(r % T) * d << 2;
    for (let c = 0; c < d; c++) {
      const at = <usize>c << 2;
      const partner = <usize>(c < half ? c + half : c - half) << 2;
      const s = load<f32>(sin + table + (transpose ? partner : at));
      const value = load<f32>(x + row + at) * load<f32>(cos + table + at) + load<f32>(x + row + partner) * s;
      store<f32>(y + row + at, value);
    }
  }
}
