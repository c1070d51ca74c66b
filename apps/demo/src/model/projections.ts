// What goes into and out of a layer's attention, read with the model's own
// modules block by block (its forward pass in steps), so the arithmetic view
// can show x·W_Q, x·W_K, x·W_V and Concat(heads)·W_O with the numbers the
// model used: ln_1(x), c_attn (W_Q | W_K | W_V side by side, head after
// head), c_proj (W_O), and the attention output to check against.
import type { Block } from '@tx/blocks';
import { tf } from '@tx/core';

/** One layer's attention projections and what goes in and out of them. */
export interface LayerProjection {
  /** The attention's input, ln_1(x) (x itself for a post-norm block): [T][C]. */
  x: number[][];
  /** c_attn: W_Q | W_K | W_V side by side, [C][3C] ([in, out]); its bias [3C] or null. */
  wqkv: number[][];
  bqkv: number[] | null;
  /** c_proj = W_O: [C][C]; its bias [C] or null. */
  wo: number[][];
  bo: number[] | null;
  /** The attention sublayer's output (Concat(heads)·W_O + b) as the model computes it: [T][C]. */
  out: number[][];
}

/** The largest c_attn whose numbers the page reads back (GPT-2 small's is 768 x 2,304: not read). */
export const MAX_PROJECTION_WEIGHTS = 1 << 20;

/**
 * `x0`: the first block's input [1, T, C] (embeddings and positions). Reads
 * the layers in `wanted` (null for the others); every block up to the last
 * wanted one runs. x0 is not disposed.
 */
export async function readProjections(blocks: readonly Block[], x0: tf.Tensor, wanted: readonly number[]): Promise<Array<LayerProjection | null>> {
  const order = [...new Set(wanted)].sort((a, b) => a - b);
  const last = order.at(-1) ?? -1;
  // [ln_1(x), attention output] of each wanted layer, in order.
  const kept = tf.tidy(() => {
    let x = x0;
    const out: tf.Tensor[] = [];
    for (let l = 0; l <= last; l++) {
      const block = blocks[l];
      if (order.includes(l)) {
        const xn = block.norm === 'pre' ? block.ln_1.forward(x) : x;
        out.push(xn, block.attn.forward(xn).output);
      }
      if (l < last) x = block.forward(x).y;
    }
    return out;
  });
  const first = async (t: tf.Tensor) => ((await t.array()) as number[][][])[0];
  const layers: Array<LayerProjection | null> = blocks.map(() => null);
  try {
    for (const [i, l] of order.entries()) {
      const { c_attn, c_proj } = blocks[l].attn;
      layers[l] = {
        x: await first(kept[2 * i]), out: await first(kept[2 * i + 1]),
        wqkv: (await c_attn.weight.array()) as number[][], bqkv: c_attn.bias ? ((await c_attn.bias.array()) as number[]) : null,
        wo: (await c_proj.weight.array()) as number[][], bo: c_proj.bias ? ((await c_proj.bias.array()) as number[]) : null,
      };
    }
  } finally {
    tf.dispose(kept);
  }
  return layers;
}
