// A Hugging Face Llama-family folder (LlamaForCausalLM, MistralForCausalLM,
// Qwen2ForCausalLM) as files already read, to and from @tx/blocks' Llama.
// The config mapping is @tx/blocks' (llamaConfigFromHuggingFace); the weights
// need none (Llama holds HF's names and nn.Linear's [out, in] layout). This
// puts model and tokenizer together, and writes the folder back as
// save_pretrained does: the same dtype, the same shards and index when the
// model came from a sharded folder, so that hf -> tx -> hf gives the same bytes.
import { Llama, huggingFaceConfigFromLlama, llamaConfigFromHuggingFace, type LlamaConfig } from '@tx/blocks';
import { Rng, TxError, tf, type StateDict } from '@tx/core';
import { BpeTokenizer, loadTokenizer, type Tokenizer } from '@tx/tokenizer';

/** The files of a Llama-family folder, as the caller read them: config, tensors (all shards together) and tokenizer. */
export interface LlamaFolderFiles {
  /** config.json, parsed. */
  config: unknown;
  /** The tensors of model.safetensors or of every shard (the caller keeps and disposes them). */
  tensors: StateDict;
  /** tokenizer.json, parsed; or our tx-tokenizer.json, parsed. */
  tokenizerJson?: unknown;
  txTokenizer?: unknown;
}

/** How a Llama-family model was stored, to write it back the same way: dtype, and the shard of each tensor. */
export interface HuggingFaceLayout {
  /** The dtype of the weights in the files ("BF16", "F16" or "F32"). */
  dtype: 'BF16' | 'F16' | 'F32';
  /** model.safetensors.index.json's weight_map (tensor -> shard file), or null for one model.safetensors. */
  weightMap: Record<string, string> | null;
}

/** Build the Llama and its tokenizer; `where` names the folder in errors. */
export function llamaFromHuggingFace(files: LlamaFolderFiles, where: string): { model: Llama; tokenizer: Tokenizer; config: LlamaConfig } {
  const config = llamaConfigFromHuggingFace(files.config, `${where}/config.json`);
  let tokenizer: Tokenizer;
  try {
    if (files.tokenizerJson !== undefined) tokenizer = BpeTokenizer.fromHuggingFace(files.tokenizerJson as object);
    else if (files.txTokenizer !== undefined) tokenizer = loadTokenizer(files.txTokenizer);
    else throw new TxError('no tokenizer: expected tokenizer.json');
  } catch (err) {
    throw new TxError(`${where}: the tokenizer: ${(err as Error).message}`);
  }
  if (tokenizer.vocabSize > config.vocabSize) throw new TxError(`${where}: the tokenizer has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${config.vocabSize}`);
  const model = new Llama(config, { rng: new Rng(1337) });
  try {
    model.loadStateDict(files.tensors);
  } catch (err) {
    model.dispose();
    throw new TxError(`${where}: the weights do not fit config.json: ${(err as Error).message}`);
  }
  return { model, tokenizer, config };
}

/** The dtype most of a folder's tensors have (what save_pretrained wrote them in), from loadSafetensorsFile's dtypes. */
export function storedDtype(dtypes: Record<string, string>): HuggingFaceLayout['dtype'] {
  const counts = new Map<string, number>();
  for (const d of Object.values(dtypes)) counts.set(d, (counts.get(d) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  return top === 'BF16' || top === 'F16' ? top : 'F32';
}

/**
 * The folder save_pretrained would write for this model: config.json (`base`,
 * the imported config, with the model's fields), and the weights as
 * safetensors files in `layout` (one model.safetensors, or the shards of its
 * weight_map plus model.safetensors.index.json), each laid out as the
 * safetensors library writes: "__metadata__" {"format": "pt"} first, names
 * sorted, the header padded with spaces to 8 bytes.
 */
export async function huggingFaceFolderFromLlama(model: Llama, layout: HuggingFaceLayout = { dtype: 'F32', weightMap: null }, base?: Record<string, unknown>): Promise<{ config: Record<string, unknown>; files: Array<{ name: string; bytes: Uint8Array | string }> }> {
  const config = huggingFaceConfigFromLlama(model.config, base);
  const sd = model.stateDict();
  try {
    const values: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, t] of Object.entries(sd)) values[name] = { shape: t.shape, data: (await t.data()) as Float32Array };
    const names = Object.keys(values);
    const shardOf = (name: string) => layout.weightMap?.[name] ?? 'model.safetensors';
    const missing = layout.weightMap ? names.filter((n) => !Object.hasOwn(layout.weightMap!, n)) : [];
    if (missing.length > 0) throw new TxError(`the recorded shard layout has no place for "${missing[0]}"`);
    const files: Array<{ name: string; bytes: Uint8Array | string }> = [];
    for (const file of [...new Set(names.map(shardOf))].sort()) {
      files.push({ name: file, bytes: serialize(Object.fromEntries(names.filter((n) => shardOf(n) === file).map((n) => [n, values[n]])), layout.dtype) });
    }
    if (layout.weightMap) {
      const bytesPer = layout.dtype === 'F32' ? 4 : 2;
      const total = names.reduce((sum, n) => sum + values[n].data.length * bytesPer, 0);
      const weightMap = Object.fromEntries(names.sort().map((n) => [n, shardOf(n)]));
      files.push({ name: 'model.safetensors.index.json', bytes: `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n` });
    }
    files.push({ name: 'config.json', bytes: `${JSON.stringify(config, null, 2)}\n` });
    return { config, files };
  } finally {
    tf.dispose(Object.values(sd));
  }
}

/** One safetensors file of float tensors in `dtype` (BF16 and F16 rounded to nearest even; exact for values read from such files). */
function serialize(tensors: Record<string, { shape: number[]; data: Float32Array }>, dtype: HuggingFaceLayout['dtype']): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const bytesPer = dtype === 'F32' ? 4 : 2;
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const n = tensors[name].data.length * bytesPer;
    header[name] = { dtype, shape: tensors[name].shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = Uint8Array.from([...json, ...new Array(padded - json.length).fill(0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  const bits = new Uint32Array(1);
  const float = new Float32Array(bits.buffer);
  for (const name of names) {
    for (const v of tensors[name].data) {
      if (dtype === 'F32') view.setFloat32(at, v, true);
      else {
        float[0] = v;
        view.setUint16(at, dtype === 'BF16' ? toBfloat16(bits[0]) : toHalf(v), true);
      }
      at += bytesPer;
    }
  }
  return out;
}

/** float32 bits -> bfloat16 bits, rounded to nearest even (NaN kept a NaN). */
function toBfloat16(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 -> IEEE half bits, rounded to nearest even (exact for values read from F16). */
function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rounded = (m + half - 1 + ((m >>> shift) & 1)) >>> shift;
    return sign | rounded;
  }
  const rounded = (mant + 0xfff + ((mant >>> 13) & 1)) >>> 13;
  return (sign | ((e << 10) + rounded)) & 0xffff;
}
