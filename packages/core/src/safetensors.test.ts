import { readFileSync } from 'node:fs';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { SafetensorsError } from './errors.js';
import { loadSafetensorsFile, saveSafetensorsFile } from './node.js';
import {
  MAX_TENSORS,
  bfloat16ToFloat,
  checkFinite,
  countHeaderTensors,
  halfToFloat,
  loadSafetensors,
  parseSafetensors,
  serializeSafetensors,
} from './safetensors.js';
import { tf } from './tf.js';

const fixtures = join(import.meta.dirname, '../test/fixtures');

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

/** Build a file from a header object and a data buffer, as the format lays it out. */
function craft(header: unknown, data = new Uint8Array(0), headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('half and bfloat16 decoding', () => {
  it('decodes hand-picked bit patterns', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(bfloat16ToFloat(0x3f80)).toBe(1);
    expect(bfloat16ToFloat(0x4049)).toBe(3.140625);
    expect(bfloat16ToFloat(0xbf00)).toBe(-0.5);
  });
});

describe('safetensors', () => {
  it('reads byte-sized integers and booleans as int32 (the mask buffers of older GPT-2 files)', () => {
    const data = Uint8Array.from([1, 0, 255, 0, 1, 1, 1, 128]);
    const header = { u: { dtype: 'U8', shape: [3], data_offsets: [0, 3] }, b: { dtype: 'BOOL', shape: [1, 3], data_offsets: [3, 6] }, i: { dtype: 'I8', shape: [2], data_offsets: [6, 8] } };
    const { tensors } = parseSafetensors(craft(header, data));
    expect([tensors.u.dtype, Array.from(tensors.u.data)]).toEqual(['int32', [1, 0, 255]]);
    expect([tensors.b.shape, Array.from(tensors.b.data)]).toEqual([[1, 3], [0, 1, 1]]);
    expect(Array.from(tensors.i.data)).toEqual([1, -128]);
  });

  it('reads a file laid out as PyTorch writes it (F32, F16, BF16, metadata, padded header)', () => {
    const bytes = readFileSync(join(fixtures, 'pytorch_layout.safetensors'));
    const expected = JSON.parse(readFileSync(join(fixtures, 'pytorch_layout.json'), 'utf8'));
    const { tensors, metadata } = parseSafetensors(bytes, 'pytorch_layout.safetensors');
    expect(metadata).toEqual({ format: 'pt', source: 'tooling/fixtures/safetensors.py' });
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected) as Array<[string, { shape: number[]; values: number[] }]>) {
      expect(tensors[name].shape).toEqual(want.shape);
      expect(Array.from(tensors[name].data)).toEqual(want.values.map(Math.fround));
    }
  });

  it('round-trips tensors and metadata, with sorted keys and an 8-byte aligned, space-padded header', async () => {
    const a = tf.tensor2d([[1.5, -2], [3, 4e-8]]);
    const b = tf.tensor1d([7, -8, 9], 'int32');
    const bytes = await serializeSafetensors({ 'z.weight': a, 'a.bias': b }, { step: '12' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    expect(header.indexOf('"a.bias"')).toBeLessThan(header.indexOf('"z.weight"'));
    const { tensors, metadata } = loadSafetensors(bytes);
    expect(metadata).toEqual({ step: '12' });
    expect(await tensors['z.weight'].array()).toEqual([[1.5, -2], [3, Math.fround(4e-8)]]);
    expect(tensors['a.bias'].dtype).toBe('int32');
    expect(await tensors['a.bias'].array()).toEqual([7, -8, 9]);
    tf.dispose([a, b, ...Object.values(tensors)]);
  });

  it('writes files atomically and names the file in errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-safetensors-'));
    const path = join(dir, 'model.safetensors');
    const t = tf.tensor1d([1, 2, 3]);
    await saveSafetensorsFile(path, { t });
    await saveSafetensorsFile(path, { t });
    expect(readdirSync(dir)).toEqual(['model.safetensors']); // no temp file left behind
    const { tensors } = await loadSafetensorsFile(path);
    expect(await tensors.t.array()).toEqual([1, 2, 3]);
    await expect(loadSafetensorsFile(join(dir, 'missing.safetensors'))).rejects.toThrow(`${join(dir, 'missing.safetensors')}: cannot read it (ENOENT: no such file or directory)`);
    tf.dispose([t, ...Object.values(tensors)]);
  });

  it('rejects every truncation of a valid file with a SafetensorsError', async () => {
    const t = tf.tensor2d([[1, 2], [3, 4]]);
    const bytes = await serializeSafetensors({ w: t }, { note: 'x' });
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => parseSafetensors(bytes.subarray(0, cut), 'cut.safetensors')).toThrow(SafetensorsError);
    }
    expect(() => parseSafetensors(bytes.subarray(0, bytes.length - 3), 'cut.safetensors')).toThrow(
      /cut\.safetensors: tensor "w": data_offsets end at 16, past the 13 data bytes/,
    );
    t.dispose();
  });

  it('never crashes on random corruption: it parses or throws a SafetensorsError', async () => {
    const t = tf.tensor1d([1, 2, 3, 4]);
    const good = await serializeSafetensors({ a: t, b: t });
    let state = 12345;
    const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
    for (let trial = 0; trial < 2000; trial++) {
      const bad = good.slice();
      for (let flips = 1 + (next() % 3); flips > 0; flips--) bad[next() % bad.length] = next() & 0xff;
      try {
        parseSafetensors(bad);
      } catch (err) {
        expect(err).toBeInstanceOf(SafetensorsError);
      }
    }
    t.dispose();
  });

  const four = new Uint8Array(16);
  it.each([
    ['a huge header length', craft({}, four, 2n ** 40n), /header length 1099511627776 exceeds the 100000000-byte limit/],
    ['a header that is not JSON', (() => { const b = craft({}); b[8] = 0x5b; return b; })(), /header is not valid UTF-8 JSON/],
    ['a header that is an array', craft([1, 2]), /header is not a JSON object/],
    ['an unknown dtype', craft({ w: { dtype: 'Q4', shape: [4], data_offsets: [0, 16] } }, four), /tensor "w": unsupported dtype "Q4"/],
    ['a bad shape', craft({ w: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }, four), /tensor "w": shape \[-4\] is not a list/],
    ['a size mismatch', craft({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, four), /F32 \[3\] needs 12 bytes, data_offsets span 16/],
    ['reversed offsets', craft({ w: { dtype: 'F32', shape: [0], data_offsets: [16, 0] } }, four), /end before they begin/],
    ['overlapping tensors', craft({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, four), /overlaps the tensor before it/],
    ['a hole in the data', craft({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, four), /bytes 0\.\.8 of the data belong to no tensor/],
    ['trailing bytes', craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, four), /8 trailing data bytes/],
    ['non-string metadata', craft({ __metadata__: { step: 3 } }), /"__metadata__\.step" is not a string/],
  ])('rejects %s with a clear message', (_what, bytes, message) => {
    expect(() => parseSafetensors(bytes, 'bad.safetensors')).toThrow(SafetensorsError);
    expect(() => parseSafetensors(bytes, 'bad.safetensors')).toThrow(message);
  });

  it('refuses to write dtypes it cannot store', async () => {
    const t = tf.tensor1d([true, false], 'bool');
    await expect(serializeSafetensors({ mask: t })).rejects.toThrow('tensor "mask": cannot write dtype bool');
    t.dispose();
  });
});

describe('safetensors under hostile files', () => {
  const empty = { dtype: 'F32', shape: [0], data_offsets: [0, 0] };

  it('keeps a tensor named "__proto__" (and such metadata) as an ordinary key', async () => {
    const bytes = craft(
      { ['__proto__']: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, __metadata__: { ['__proto__']: 'x' } },
      new Uint8Array(new Float32Array([2.5]).buffer),
    );
    const { tensors, metadata } = parseSafetensors(bytes, 'proto.safetensors');
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(tensors)).toBeNull();
    expect(Array.from(tensors['__proto__'].data)).toEqual([2.5]);
    expect(Object.keys(metadata)).toEqual(['__proto__']);

    const t = tf.tensor1d([1, 2]);
    const written = await serializeSafetensors(Object.fromEntries([['__proto__', t]]));
    const loaded = loadSafetensors(written);
    expect(Object.keys(loaded.tensors)).toEqual(['__proto__']);
    expect(await loaded.tensors['__proto__'].array()).toEqual([1, 2]);
    tf.dispose([t, ...Object.values(loaded.tensors)]);
  });

  it('refuses more than MAX_TENSORS tensors before parsing the header', () => {
    const many = (count: number, metadata: boolean) => {
      const parts = metadata ? ['"__metadata__":{"format":"pt"}'] : [];
      const entry = JSON.stringify(empty);
      for (let i = 0; i < count; i++) parts.push(`"t${i}":${entry}`);
      const json = new TextEncoder().encode(`{${parts.join(',')}}`);
      const out = new Uint8Array(8 + json.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    };
    expect(MAX_TENSORS).toBe(100_000);
    const tooMany = many(MAX_TENSORS + 1, false);
    expect(countHeaderTensors(tooMany.subarray(8))).toBe(MAX_TENSORS + 1);
    expect(() => parseSafetensors(tooMany, 'many.safetensors')).toThrow(SafetensorsError);
    expect(() => parseSafetensors(tooMany, 'many.safetensors')).toThrow(
      'many.safetensors: header lists 100001 tensors, more than the 100000 allowed (MAX_TENSORS)',
    );
    // "__metadata__" is not a tensor: exactly MAX_TENSORS tensors still load.
    const atLimit = many(MAX_TENSORS, true);
    expect(countHeaderTensors(atLimit.subarray(8))).toBe(MAX_TENSORS);
    expect(Object.keys(parseSafetensors(atLimit).tensors)).toHaveLength(MAX_TENSORS);
  });

  it('counts header tensors on bytes, skipping what is inside strings', () => {
    const count = (text: string) => countHeaderTensors(new TextEncoder().encode(text));
    expect(count('{}')).toBe(0);
    expect(count(' { "__metadata__" : { "a,b:c" : "{[\\"x\\",:" } , "w" : {"shape": [1, 2]} } ')).toBe(1);
    expect(count('{"a,\\"b:":{},"{[é]}":{},"__metadata__x":[1,{"k":2}]}')).toBe(3);
    const header = { '__metadata__': { 'a,b': 'c:d' }, 'x,y': empty, 'q"': empty, 'π:{': empty };
    expect(count(JSON.stringify(header))).toBe(3);
    expect(Object.keys(parseSafetensors(craft(header)).tensors).sort()).toEqual(['q"', 'x,y', 'π:{']);
  });

  it('checks every span before decoding: 1,000 tensors on the same 1 MB fail fast', () => {
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) header[`t${i}`] = { dtype: 'F32', shape: [262_144], data_offsets: [0, 1 << 20] };
    expect(() => parseSafetensors(craft(header, new Uint8Array(1 << 20)), 'same.safetensors')).toThrow(
      'same.safetensors: tensor "t1" overlaps the tensor before it (data starts at 0, previous ends at 1048576)',
    );
  });

  it('names each tensor with NaN or infinite values when asked to require finite values', async () => {
    const values = new Float32Array(20).fill(0.5);
    for (let i = 0; i < 12; i++) values[i] = NaN;
    values[12] = Infinity;
    values[13] = -Infinity;
    values[14] = Infinity;
    const weight = tf.tensor(values, [4, 5]);
    const bias = tf.tensor1d([1, -Infinity, 3]);
    const ok = tf.tensor1d([1, 2]);
    const ids = tf.tensor1d([1, 2], 'int32');
    const bytes = await serializeSafetensors({ 'transformer.h.0.attn.c_attn.weight': weight, 'transformer.h.0.attn.c_attn.bias': bias, 'lm_head.weight': ok, ids });
    const message =
      'model.safetensors: transformer.h.0.attn.c_attn.bias has 1 infinite value; transformer.h.0.attn.c_attn.weight has 12 NaN values and 3 infinite values';
    expect(() => parseSafetensors(bytes, 'model.safetensors', { requireFinite: true })).toThrow(SafetensorsError);
    expect(() => parseSafetensors(bytes, 'model.safetensors', { requireFinite: true })).toThrow(message);
    const before = tf.memory().numTensors;
    expect(() => loadSafetensors(bytes, 'model.safetensors', { requireFinite: true })).toThrow(message);
    expect(tf.memory().numTensors).toBe(before); // nothing reached the backend

    // Off by default; checkFinite does the same on parsed tensors.
    const { tensors } = parseSafetensors(bytes, 'model.safetensors');
    expect(tensors['transformer.h.0.attn.c_attn.weight'].data[0]).toBeNaN();
    expect(() => checkFinite(tensors, 'model.safetensors')).toThrow(message);
    const { 'transformer.h.0.attn.c_attn.weight': _w, 'transformer.h.0.attn.c_attn.bias': _b, ...finite } = tensors;
    expect(() => checkFinite(finite)).not.toThrow();

    // NaN in a half-precision file is caught after widening.
    const half = craft({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array([0x00, 0x7e, 0x00, 0x3c]));
    expect(() => parseSafetensors(half, 'half.safetensors', { requireFinite: true })).toThrow('half.safetensors: h has 1 NaN value');

    const dir = mkdtempSync(join(tmpdir(), 'tx-finite-'));
    await saveSafetensorsFile(join(dir, 'model.safetensors'), { 'transformer.h.0.attn.c_attn.weight': weight });
    await expect(loadSafetensorsFile(join(dir, 'model.safetensors'), { requireFinite: true })).rejects.toThrow(
      `${join(dir, 'model.safetensors')}: transformer.h.0.attn.c_attn.weight has 12 NaN values and 3 infinite values`,
    );
    tf.dispose([weight, bias, ok, ids]);
  });

  it('lists at most 10 non-finite tensors, then how many more', () => {
    const tensors = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [`t${i}`, { dtype: 'float32' as const, shape: [1], data: new Float32Array([NaN]) }]),
    );
    expect(() => checkFinite(tensors, 'x')).toThrow(/^x: t0 has 1 NaN value; .*; t9 has 1 NaN value; and 2 more tensors$/);
  });
});
