// Module: a tree of named parameters, like torch.nn.Module.
//
// A parameter's full name is its path through the tree ("h.0.attn.c_attn.weight"),
// which is also its key in a state dict and in a safetensors file.
//
//   class Linear extends Module {
//     weight = this.param('weight', randomNormal([nIn, nOut], rng, { std: 0.02 }));
//   }
import { formatShape, StateDictError, ValueError } from './errors.js';
import { tf } from './tf.js';

/** Tensors by parameter name, as Module.stateDict returns them and loadStateDict takes them (PyTorch's layout). */
export type StateDict = Record<string, tf.Tensor>;

/** Options of Module.param: whether the optimizer updates it, and the layout state dicts store. */
export interface ParamOptions {
  /** Whether the optimizer updates it (default true). */
  trainable?: boolean;
  /**
   * The parameter is held as [in, out] for fast `x @ W` matMuls, but stored in
   * state dicts (and files) as PyTorch's nn.Linear does, [out, in].
   */
  transposeInStateDict?: boolean;
}

interface Parameter {
  variable: tf.Variable;
  transposeInStateDict: boolean;
}

/** The base of every layer and model: named parameters (PyTorch's names, such as `h.0.attn.c_attn.weight`), child modules, state dicts, train and eval mode. */
export class Module {
  private readonly ownParams = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();
  /** Training mode turns on dropout; set it with train() and eval(). */
  training = true;

  /** Register a parameter. `init` becomes owned by the module (it is disposed after copying). */
  protected param(name: string, init: tf.Tensor, options: ParamOptions = {}): tf.Variable {
    checkName(name, this.ownParams, this.children);
    const variable = tf.variable(init, options.trainable ?? true);
    init.dispose();
    this.ownParams.set(name, { variable, transposeInStateDict: options.transposeInStateDict ?? false });
    return variable;
  }

  /** Register a child module: its parameters are named "<name>.<their name>". */
  protected module<M extends Module>(name: string, child: M): M {
    checkName(name, this.ownParams, this.children);
    this.children.set(name, child);
    return child;
  }

  /** Every parameter with its full name: a module's own first, then each child's, as PyTorch orders them. */
  namedParameters(prefix = ''): Array<[string, tf.Variable]> {
    return this.walk(prefix).map(([name, p]) => [name, p.variable]);
  }

  parameters(): tf.Variable[] {
    return this.walk('').map(([, p]) => p.variable);
  }

  /** Total number of scalars in all parameters. */
  numParameters(): number {
    return this.parameters().reduce((n, v) => n + v.size, 0);
  }

  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * The parameters as a name -> tensor map in file layout. The tensors are new
   * handles that the caller owns and must dispose (tf.dispose(Object.values(sd))).
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    tf.tidy(() => {
      for (const [name, p] of this.walk('')) {
        out[name] = tf.keep(p.transposeInStateDict ? tf.transpose(p.variable) : tf.clone(p.variable));
      }
    });
    return out;
  }

  /**
   * Copy tensors into the parameters. With strict (the default) every
   * parameter must be present and no other key may be; every problem is named
   * in one StateDictError and nothing is assigned unless all of them fit.
   */
  loadStateDict(dict: StateDict, { strict = true }: { strict?: boolean } = {}): void {
    const params = this.walk('');
    const problems: string[] = [];
    for (const [name, p] of params) {
      const found = Object.hasOwn(dict, name) ? dict[name] : undefined; // not "constructor" from Object.prototype
      if (!found) {
        if (strict) problems.push(`missing tensor "${name}" (expected shape ${formatShape(fileShape(p))})`);
        continue;
      }
      const expected = fileShape(p);
      if (!sameShape(found.shape, expected)) {
        problems.push(`tensor "${name}": expected shape ${formatShape(expected)}, found ${formatShape(found.shape)}`);
      } else if (found.dtype !== 'float32') {
        problems.push(`tensor "${name}": expected dtype float32, found ${found.dtype}`);
      }
    }
    if (strict) {
      const known = new Set(params.map(([name]) => name));
      for (const key of Object.keys(dict)) if (!known.has(key)) problems.push(`unexpected tensor "${key}"`);
    }
    if (problems.length > 0) {
      const shown = problems.slice(0, 10).join('; ');
      const more = problems.length > 10 ? `; and ${problems.length - 10} more` : '';
      throw new StateDictError(`state dict does not fit ${this.constructor.name}: ${shown}${more}`);
    }
    tf.tidy(() => {
      for (const [name, p] of params) {
        const found = Object.hasOwn(dict, name) ? dict[name] : undefined;
        if (found) p.variable.assign(p.transposeInStateDict ? tf.transpose(found) : found);
      }
    });
  }

  /** Free every parameter's memory. The module must not be used afterwards. */
  dispose(): void {
    for (const [, p] of this.walk('')) p.variable.dispose();
  }

  private walk(prefix: string): Array<[string, Parameter]> {
    const out: Array<[string, Parameter]> = [];
    for (const [name, p] of this.ownParams) out.push([prefix + name, p]);
    for (const [name, child] of this.children) out.push(...child.walk(`${prefix}${name}.`));
    return out;
  }
}

/** A numbered list of modules, named "0", "1", ... as in torch.nn.ModuleList. */
export class ModuleList<M extends Module> extends Module implements Iterable<M> {
  private readonly items: M[] = [];

  constructor(items: M[] = []) {
    super();
    for (const item of items) this.push(item);
  }

  push(item: M): void {
    this.items.push(this.module(String(this.items.length), item));
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const item = this.items[i];
    if (!item) throw new ValueError(`ModuleList index ${i} out of range [0, ${this.items.length})`);
    return item;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/** A named group of modules (torch.nn.ModuleDict): GPT's `transformer`, the encoder and decoder stacks. */
export class ModuleDict extends Module {
  add<M extends Module>(name: string, child: M): M {
    return this.module(name, child);
  }
}

function checkName(name: string, params: Map<string, unknown>, children: Map<string, unknown>): void {
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new StateDictError(`invalid parameter or module name "${name}": use letters, digits and _`);
  if (params.has(name) || children.has(name)) throw new StateDictError(`name "${name}" is registered twice`);
}

function fileShape(p: Parameter): number[] {
  const shape = p.variable.shape;
  return p.transposeInStateDict ? [...shape].reverse() : [...shape];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
