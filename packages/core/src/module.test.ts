import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Linear } from './linear.js';
import { Module, ModuleList } from './module.js';
import { Rng } from './rng.js';
import { StateDictError, ValueError } from './errors.js';
import { expectNoLeak } from './testing.js';
import { initBackend } from './backend.js';
import { loadSafetensors, serializeSafetensors } from './safetensors.js';
import { tf } from './tf.js';

class Block extends Module {
  readonly c_attn: Linear;
  readonly ln_scale: tf.Variable;
  constructor(rng: Rng) {
    super();
    this.c_attn = this.module('c_attn', new Linear(4, 12, { rng, bias: false }));
    this.ln_scale = this.param('ln_scale', tf.ones([4]));
  }
}

class Tiny extends Module {
  readonly h: ModuleList<Block>;
  readonly head: Linear;
  constructor(seed: number) {
    super();
    const rng = new Rng(seed);
    this.h = this.module('h', new ModuleList([new Block(rng), new Block(rng)]));
    this.head = this.module('head', new Linear(4, 3, { rng }));
  }
}

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

describe('Module', () => {
  let model: Tiny;
  beforeAll(() => {
    model = new Tiny(1);
  });
  afterAll(() => model.dispose());

  it("names parameters hierarchically: a module's own first, then its children's (as PyTorch)", () => {
    expect(model.namedParameters().map(([name, v]) => [name, v.shape])).toEqual([
      ['h.0.ln_scale', [4]],
      ['h.0.c_attn.weight', [4, 12]],
      ['h.1.ln_scale', [4]],
      ['h.1.c_attn.weight', [4, 12]],
      ['head.weight', [4, 3]],
      ['head.bias', [3]],
    ]);
    expect(model.numParameters()).toBe(2 * (48 + 4) + 12 + 3);
  });

  it('stores linear weights as [out, in] in the state dict and round-trips', async () => {
    const sd = model.stateDict();
    expect(sd['h.0.c_attn.weight'].shape).toEqual([12, 4]);
    const w = await model.h.at(0).c_attn.weight.array() as number[][];
    const stored = await sd['h.0.c_attn.weight'].array() as number[][];
    expect(stored[5][2]).toBe(w[2][5]);

    const other = new Tiny(2);
    other.loadStateDict(sd);
    for (const [name, v] of other.namedParameters()) {
      const original = model.namedParameters().find(([n]) => n === name)![1];
      expect(Array.from(await v.data())).toEqual(Array.from(await original.data()));
    }
    other.dispose();
    tf.dispose(Object.values(sd));
  });

  it('names the offending tensor, with expected and found shapes, and loads nothing', async () => {
    const sd = model.stateDict();
    const before = await model.head.bias!.data();
    const bad = { ...sd, 'h.1.c_attn.weight': tf.zeros([4, 12]), 'head.bias': tf.zeros([3]) };
    expect(() => model.loadStateDict(bad)).toThrow(StateDictError);
    expect(() => model.loadStateDict(bad)).toThrow('tensor "h.1.c_attn.weight": expected shape [12, 4], found [4, 12]');
    expect(Array.from(await model.head.bias!.data())).toEqual(Array.from(before));

    const { 'head.weight': _dropped, ...missing } = sd;
    expect(() => model.loadStateDict(missing)).toThrow('missing tensor "head.weight" (expected shape [3, 4])');
    expect(() => model.loadStateDict({ ...sd, 'extra.weight': tf.zeros([1]) })).toThrow('unexpected tensor "extra.weight"');
    expect(() => model.loadStateDict(missing, { strict: false })).not.toThrow();
    tf.dispose([bad['h.1.c_attn.weight'], bad['head.bias']]);
    tf.dispose(Object.values(sd));
  });

  it('names a "__proto__" tensor from a file as unexpected, and loads nothing', async () => {
    const sd = model.stateDict();
    const extra = tf.zeros([2]);
    const bytes = await serializeSafetensors({ ...sd, ['__proto__']: extra });
    const { tensors } = loadSafetensors(bytes, 'model.safetensors');
    expect(() => model.loadStateDict(tensors)).toThrow(StateDictError);
    expect(() => model.loadStateDict(tensors)).toThrow('state dict does not fit Tiny: unexpected tensor "__proto__"');
    tf.dispose([extra, ...Object.values(sd), ...Object.values(tensors)]);
  });

  it('looks up only own keys: a parameter named like an Object.prototype member is missing, not found', () => {
    class Odd extends Module {
      constructor() {
        super();
        this.param('constructor', tf.zeros([1]));
      }
    }
    const odd = new Odd();
    expect(() => odd.loadStateDict({})).toThrow('state dict does not fit Odd: missing tensor "constructor" (expected shape [1])');
    odd.dispose();
  });

  it('rejects duplicate and malformed names', () => {
    class Twice extends Module {
      constructor() {
        super();
        this.param('w', tf.zeros([1]));
        this.param('w', tf.zeros([1]));
      }
    }
    expect(() => new Twice()).toThrow('name "w" is registered twice');
  });

  it('ModuleList.at rejects an index out of range with a ValueError', () => {
    expect(() => model.h.at(2)).toThrow(ValueError);
    expect(() => model.h.at(2)).toThrow('ModuleList index 2 out of range [0, 2)');
  });

  it('propagates train/eval to children', () => {
    model.eval();
    expect(model.h.at(1).c_attn.training).toBe(false);
    model.train();
    expect(model.h.at(1).c_attn.training).toBe(true);
  });

  it('stateDict and loadStateDict leak no tensors', async () => {
    await expectNoLeak(() => {
      const sd = model.stateDict();
      model.loadStateDict(sd);
      tf.dispose(Object.values(sd));
    });
  });

  it('expectNoLeak catches a leak', async () => {
    let leaked: tf.Tensor | undefined;
    await expect(expectNoLeak(() => { leaked = tf.zeros([2]); }, { label: 'leaky fn' })).rejects.toThrow(
      'tensor leak in leaky fn: tf.memory().numTensors went from',
    );
    leaked?.dispose();
  });
});
