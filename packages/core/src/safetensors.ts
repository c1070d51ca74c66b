// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// header, then the raw tensor bytes. The header maps each name to
// { dtype, shape, data_offsets: [begin, end] } (offsets into the byte buffer
// after the header) plus an optional "__metadata__" string map.
//
// We write F32 (and I32), and read F32, F16, BF16, F64 and I32, widening
// floats to float32. Files come from users, so the parser trusts nothing:
// every size, offset and dtype is checked before a byte is read.
import { SafetensorsError, formatShape } from './errors.js';
import { tf } from './tf.js';

/** The largest JSON header we accept (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

const BYTES_PER_ELEMENT: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I32: 4 };

export interface RawTensor {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface ParsedSafetensors {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

/** Serialize tensors (float32 or int32) with optional string metadata. Keys are written sorted, as PyTorch's writer does. */
export async function serializeSafetensors(
  tensors: Record<string, tf.Tensor>,
  metadata: Record<string, string> = {},
): Promise<Uint8Array> {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
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
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors data'): ParsedSafetensors {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${source}: ${msg}`);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(headerLength);
  if (8 + n > bytes.length) fail(`truncated: header says ${n} bytes of JSON but only ${bytes.length - 8} bytes follow`);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (err) {
    fail(`header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const entries = header as Record<string, unknown>;

  const metadata: Record<string, string> = {};
  const rawMeta = entries.__metadata__;
  if (rawMeta !== undefined) {
    if (typeof rawMeta !== 'object' || rawMeta === null || Array.isArray(rawMeta)) fail('"__metadata__" is not an object');
    for (const [k, v] of Object.entries(rawMeta as object)) {
      if (typeof v !== 'string') fail(`"__metadata__.${k}" is not a string`);
      metadata[k] = v as string;
    }
  }

  const buffer = bytes.subarray(8 + n);
  const spans: Array<{ name: string; begin: number; end: number }> = [];
  const tensors: Record<string, RawTensor> = {};
  for (const [name, value] of Object.entries(entries)) {
    if (name === '__metadata__') continue;
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== 'object' || info === null) fail(`tensor "${name}": entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string' || !(dtype in BYTES_PER_ELEMENT)) {
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
    if (end > buffer.length) fail(`tensor "${name}": data_offsets end at ${end}, past the ${buffer.length} data bytes (truncated file?)`);
    spans.push({ name, begin, end });
    tensors[name] = decode(buffer.subarray(begin, end), dtype as string, dims);
  }

  // The buffer must be covered exactly: no overlaps, no holes, nothing trailing.
  spans.sort((a, b) => a.begin - b.begin);
  let covered = 0;
  for (const s of spans) {
    if (s.begin < covered) fail(`tensor "${s.name}" overlaps the tensor before it (data starts at ${s.begin}, previous ends at ${covered})`);
    if (s.begin > covered) fail(`bytes ${covered}..${s.begin} of the data belong to no tensor`);
    covered = s.end;
  }
  if (covered !== buffer.length) fail(`${buffer.length - covered} trailing data bytes belong to no tensor`);
  return { tensors, metadata };
}

/** Parse a safetensors file into tfjs tensors, which the caller owns. */
export function loadSafetensors(bytes: Uint8Array, source?: string): { tensors: Record<string, tf.Tensor>; metadata: Record<string, string> } {
  const parsed = parseSafetensors(bytes, source);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(parsed.tensors)) tensors[name] = tf.tensor(t.data, t.shape, t.dtype);
  return { tensors, metadata: parsed.metadata };
}

function decode(bytes: Uint8Array, dtype: string, shape: number[]): RawTensor {
  // Copy into an aligned buffer: the data need not start at a multiple of 4.
  // (new Uint8Array copies; Buffer.slice would not.)
  const copy = new Uint8Array(bytes);
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
