// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// header, then the raw tensor bytes. The header maps each name to
// { dtype, shape, data_offsets: [begin, end] } (offsets into the byte buffer
// after the header) plus an optional "__metadata__" string map.
//
// We write F32 (and I32), and read F32, F16, BF16, F64, I32, U8, I8 and BOOL, widening
// floats to float32. Files come from users, so the parser trusts nothing:
// every size, offset and dtype is checked before a byte is read.
//
// Hostile files, and what stops each:
// - A tensor named "__proto__": a plain {} would take it as its prototype and
//   drop it from the keys, so every name -> value map here has a null prototype.
// - A 99 MB header of 1.67M empty tensors took 3.3 GB and 68 s before failing.
//   We count the header's entries on its bytes, before decoding or parsing it,
//   and refuse more than MAX_TENSORS; then we check every span and the cover
//   of the data before decoding one tensor, so no allocation scales with a
//   lie (100k tensors all pointing at the same 1 MB would otherwise be 100k
//   copies of it before the overlap is seen).
// - NaN or infinite weights load silently and sampling then prints nothing:
//   `requireFinite` (or checkFinite) counts them on the host-side arrays,
//   before any tensor reaches a backend.
import { SafetensorsError, formatShape } from './errors.js';
import { tf } from './tf.js';

/** The largest JSON header we accept (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * The most tensors a file may hold. GPT-2 XL has a few hundred, the largest
 * single checkpoint shards a few thousand; the cap bounds the work a header
 * can cause (a 100 MB header can otherwise list 1.7M empty tensors).
 */
export const MAX_TENSORS = 100_000;

// U8, I8 and BOOL are read as int32: the causal-mask buffers of older GPT-2 files are stored so.
const BYTES_PER_ELEMENT: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I32: 4, U8: 1, I8: 1, BOOL: 1 };

/** A tensor's dtype, shape and values on the host, not yet on a backend. */
export interface RawTensor {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

/** A safetensors file decoded on the host: its tensors and its metadata. */
export interface ParsedSafetensors {
  /** Null-prototype map: every name in the file is a key, "__proto__" included. */
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

/** Options of the safetensors readers. */
export interface SafetensorsReadOptions {
  /** Throw a SafetensorsError naming each tensor with NaN or infinite values (see checkFinite). */
  requireFinite?: boolean;
}

/** Serialize tensors (float32 or int32) with optional string metadata. Keys are written sorted, as PyTorch's writer does. */
export async function serializeSafetensors(
  tensors: Record<string, tf.Tensor>,
  metadata: Record<string, string> = {},
): Promise<Uint8Array> {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = Object.create(null); // keeps a tensor named "__proto__"
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    if (t.dtype !== 'float32' && t.dtype !== 'int32') {
      throw new SafetensorsError(`tensor "${name}": cannot write dtype ${t.dtype}; write float32 or int32`);
    }
    const data = await t.data();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: t.dtype === 'float32' ? 'F32' : 'I32', shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the tensor data starts 8-byte aligned.
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const withPad = new Uint8Array(padded).fill(0x20);
    withPad.set(json);
    json = withPad;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Parse and validate a safetensors file held in memory. `source` names the file in errors. */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors data', options: SafetensorsReadOptions = {}): ParsedSafetensors {
  if (bytes.length < 8) throw new SafetensorsError(`${source}: file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const n = headerLength(bytes.subarray(0, 8), bytes.length - 8, source);
  const { spans, metadata } = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, source);
  const buffer = bytes.subarray(8 + n);
  const tensors: Record<string, RawTensor> = Object.create(null);
  for (const s of spans) tensors[s.name] = decodeTensor(buffer.subarray(s.begin, s.end), s.dtype, s.shape);
  if (options.requireFinite) checkFinite(tensors, source);
  return { tensors, metadata };
}

/** The JSON header's length from the file's first 8 bytes, checked against the cap and the bytes that follow. */
export function headerLength(first8: Uint8Array, bytesAfter: number, source: string): number {
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`${source}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (Number(n) > bytesAfter) throw new SafetensorsError(`${source}: truncated: header says ${n} bytes of JSON but only ${bytesAfter} bytes follow`);
  return Number(n);
}

/** Where one tensor's bytes are, relative to the start of the data (after the header). */
export interface SafetensorsSpan {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Check a header against the data that follows it (dataLength bytes) and
 * return each tensor's span, decoding nothing: every size, offset and dtype is
 * checked, and the data must be covered exactly (no overlaps, holes or
 * trailing bytes), so decoded tensors are at most twice the file's size.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataLength: number, source: string): { spans: SafetensorsSpan[]; metadata: Record<string, string> } {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${source}: ${msg}`);
  };
  const tooMany = (count: number) => fail(`header lists ${count} tensors, more than the ${MAX_TENSORS} allowed (MAX_TENSORS)`);
  const listed = countHeaderTensors(headerBytes);
  if (listed > MAX_TENSORS) tooMany(listed);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    fail(`header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const entries = header as Record<string, unknown>;
  const names = Object.keys(entries).filter((name) => name !== '__metadata__');
  if (names.length > MAX_TENSORS) tooMany(names.length); // the byte count above is exact for all but odd spellings

  const metadata: Record<string, string> = Object.create(null);
  if (Object.hasOwn(entries, '__metadata__')) {
    const rawMeta = entries.__metadata__;
    if (typeof rawMeta !== 'object' || rawMeta === null || Array.isArray(rawMeta)) fail('"__metadata__" is not an object');
    for (const [k, v] of Object.entries(rawMeta as object)) {
      if (typeof v !== 'string') fail(`"__metadata__.${k}" is not a string`);
      metadata[k] = v as string;
    }
  }

  const spans: SafetensorsSpan[] = [];
  for (const name of names) {
    const info = entries[name] as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== 'object' || info === null) fail(`tensor "${name}": entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string' || !Object.hasOwn(BYTES_PER_ELEMENT, dtype)) {
      fail(`tensor "${name}": unsupported dtype ${JSON.stringify(dtype)} (readable: ${Object.keys(BYTES_PER_ELEMENT).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    const dims = shape as number[];
    const expectedBytes = dims.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[dtype as string];
    if (end < begin) fail(`tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`);
    if (end - begin !== expectedBytes) {
      fail(`tensor "${name}": ${dtype} ${formatShape(dims)} needs ${expectedBytes} bytes, data_offsets span ${end - begin}`);
    }
    if (end > dataLength) fail(`tensor "${name}": data_offsets end at ${end}, past the ${dataLength} data bytes (truncated file?)`);
    spans.push({ name, dtype: dtype as string, shape: dims, begin, end });
  }

  const sorted = [...spans].sort((a, b) => a.begin - b.begin);
  let covered = 0;
  for (const s of sorted) {
    if (s.begin < covered) fail(`tensor "${s.name}" overlaps the tensor before it (data starts at ${s.begin}, previous ends at ${covered})`);
    if (s.begin > covered) fail(`bytes ${covered}..${s.begin} of the data belong to no tensor`);
    covered = s.end;
  }
  if (covered !== dataLength) fail(`${dataLength - covered} trailing data bytes belong to no tensor`);
  return { spans, metadata };
}

/**
 * Throw a SafetensorsError naming every float tensor that holds NaN or
 * infinite values, with their counts:
 * `model.safetensors: transformer.h.0.attn.c_attn.weight has 12 NaN values and 3 infinite values`.
 * It reads the host-side arrays that parseSafetensors returns, never a backend.
 */
export function checkFinite(tensors: Record<string, RawTensor>, source = 'safetensors data'): void {
  const problems: string[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32') continue; // integers are always finite
    let nan = 0;
    let infinite = 0;
    const data = t.data;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v - v !== 0) {
        if (v !== v) nan++;
        else infinite++;
      }
    }
    const counts = [nan > 0 ? plural(nan, 'NaN value') : '', infinite > 0 ? plural(infinite, 'infinite value') : ''].filter(Boolean);
    if (counts.length > 0) problems.push(`${name} has ${counts.join(' and ')}`);
  }
  if (problems.length === 0) return;
  const more = problems.length > 10 ? `; and ${problems.length - 10} more tensors` : '';
  throw new SafetensorsError(`${source}: ${problems.slice(0, 10).join('; ')}${more}`);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * Count the tensors a JSON header object lists (its keys but "__metadata__")
 * on its bytes, allocating nothing: a key is a string at depth 1 followed by a
 * colon; quotes, commas and brackets inside strings are skipped, and UTF-8
 * never puts an ASCII byte inside a multi-byte character. Exact for valid JSON
 * whose keys are unique and plainly spelled; for anything else it is only an
 * estimate, and JSON.parse and the exact count after it have the last word.
 * @internal exported for tests
 */
export function countHeaderTensors(json: Uint8Array): number {
  let depth = 0;
  let inString = false;
  let stringStart = 0;
  let lastKey = -1; // where the last string at depth 1 began, -1 after a comma
  let lastKeyEnd = 0;
  let tensors = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) {
        inString = false;
        if (depth === 1) [lastKey, lastKeyEnd] = [stringStart, i + 1];
      }
    } else if (c === 0x22) {
      inString = true;
      stringStart = i;
    } else if (c === 0x7b || c === 0x5b) depth++; // { [
    else if (c === 0x7d || c === 0x5d) depth--; // } ]
    else if (depth === 1 && c === 0x3a && lastKey >= 0) {
      if (!isMetadataKey(json, lastKey, lastKeyEnd)) tensors++;
      lastKey = -1;
    } else if (depth === 1 && c === 0x2c) lastKey = -1;
  }
  return tensors;
}

const METADATA_KEY = new TextEncoder().encode('"__metadata__"');

function isMetadataKey(json: Uint8Array, begin: number, end: number): boolean {
  if (end - begin !== METADATA_KEY.length) return false;
  for (let j = 0; j < METADATA_KEY.length; j++) if (json[begin + j] !== METADATA_KEY[j]) return false;
  return true;
}

/** Parse a safetensors file into tfjs tensors, which the caller owns. Nothing reaches a backend unless the whole file is valid. */
export function loadSafetensors(
  bytes: Uint8Array,
  source?: string,
  options: SafetensorsReadOptions = {},
): { tensors: Record<string, tf.Tensor>; metadata: Record<string, string> } {
  const parsed = parseSafetensors(bytes, source, options);
  const tensors: Record<string, tf.Tensor> = Object.create(null);
  for (const [name, t] of Object.entries(parsed.tensors)) tensors[name] = tf.tensor(t.data, t.shape, t.dtype);
  return { tensors, metadata: parsed.metadata };
}

/**
 * One tensor's bytes as float32 (floats widened) or int32. With `owned`, bytes
 * that fill their own buffer are used in place (a streamed read); otherwise
 * they are copied into an aligned buffer: the data need not start at a
 * multiple of 4 (new Uint8Array copies; Buffer.slice would not).
 */
export function decodeTensor(bytes: Uint8Array, dtype: string, shape: number[], { owned = false } = {}): RawTensor {
  const copy = owned && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
  const view = new DataView(copy.buffer);
  const count = shape.reduce((a, b) => a * b, 1);
  switch (dtype) {
    case 'F32':
      return { dtype: 'float32', shape, data: littleEndian ? new Float32Array(copy.buffer) : readEach(count, (i) => view.getFloat32(i * 4, true)) };
    case 'F64':
      return { dtype: 'float32', shape, data: readEach(count, (i) => view.getFloat64(i * 8, true)) };
    case 'F16':
      return { dtype: 'float32', shape, data: readEach(count, (i) => halfToFloat(view.getUint16(i * 2, true))) };
    case 'BF16':
      return { dtype: 'float32', shape, data: readEach(count, (i) => bfloat16ToFloat(view.getUint16(i * 2, true))) };
    case 'U8':
    case 'BOOL':
      return { dtype: 'int32', shape, data: Int32Array.from(copy) };
    case 'I8':
      return { dtype: 'int32', shape, data: Int32Array.from(new Int8Array(copy.buffer, copy.byteOffset, count)) };
    default: {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return { dtype: 'int32', shape, data: out };
    }
  }
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function readEach(count: number, read: (i: number) => number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = read(i);
  return out;
}

const bf16Scratch = new DataView(new ArrayBuffer(4));

/** bfloat16 is the top half of a float32. */
export function bfloat16ToFloat(bits: number): number {
  bf16Scratch.setUint32(0, bits << 16);
  return bf16Scratch.getFloat32(0);
}

/** IEEE 754 half precision: 1 sign bit, 5 exponent bits, 10 mantissa bits. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (mantissa / 1024); // subnormal
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
}
