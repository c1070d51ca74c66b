// initBackend: pick the fastest working tfjs backend and say which one we got.
//
// tfjs falls back silently (in browsers `setBackend('webgpu')` can leave you on
// webgl). We never do: the result names the backend in use, and when it is not
// the one preferred, `fellBackFrom` and `reason` say why.
//
// WebGPU and WebGL are optional: tfjs's backends for them, and in Node Dawn
// (the `webgpu` package), are optional peer dependencies. What differs
// between Node and browsers lives behind `#platform` (package.json "imports"):
// platform.node.ts finds Dawn without letting it write on stderr,
// platform.browser.ts uses navigator.gpu and the backends the page imported.
import { findWebGPU, loadWebGL } from '#platform';
import type { AdapterInfo } from './adapter.js';
import { BackendError } from './errors.js';
import { installKernelsFor } from './kernels/install.js';
import { tf } from './tf.js';

export type { AdapterInfo } from './adapter.js';

/** A tfjs backend that `@tx` can run on. */
export type BackendName = 'webgpu' | 'wasm' | 'webgl' | 'cpu';
/** A backend to use, or 'auto': webgpu, then wasm, then cpu. */
export type BackendPreference = 'auto' | BackendName;

/** What initBackend got: the backend tfjs is really on, and why it is not the one preferred. */
export interface BackendInfo {
  /** The backend tfjs is on now (checked with tf.getBackend()). */
  backend: BackendName;
  /** The WebGPU adapter, when the backend is webgpu. */
  adapter: AdapterInfo | null;
  /** The backend we wanted first and did not get, or null. */
  fellBackFrom: BackendName | null;
  /** Why we fell back, or null. */
  reason: string | null;
}

/** Options of initBackend. */
export interface InitBackendOptions {
  /** 'auto' tries webgpu, then wasm, then cpu. A named backend is used or an error is thrown. */
  prefer?: BackendPreference;
  /**
   * With 'auto', accept a software WebGPU adapter (SwiftShader) instead of
   * falling back to wasm. Off by default: wasm is ~50x faster than SwiftShader.
   * In Node, 'auto' never tries WebGPU on a Linux machine with no GPU device
   * node, whatever this says.
   */
  allowSoftwareWebGPU?: boolean;
  /**
   * On wasm: threads for @tx's kernels' large products, GELU and attention
   * heads, the calling one included (default TX_THREADS, else 1): an integer
   * from 1 to 64 (MAX_THREADS; more is a ValueError), of which at most this
   * machine's cores are started (kernelsInfo() tells both). Results do not
   * depend on it. Node, and cross-origin-isolated pages.
   */
  threads?: number;
}

const AUTO_ORDER: BackendName[] = ['webgpu', 'wasm', 'cpu'];

/**
 * Start a tfjs backend and say which one tfjs is really on: a named backend,
 * or with 'auto' the first of webgpu, wasm and cpu that starts. A named
 * backend that cannot start throws a BackendError with the reason (a missing
 * optional package is named with its `npm install` command).
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const prefer = options.prefer ?? 'auto';
  if (prefer !== 'auto' && !AUTO_ORDER.includes(prefer) && prefer !== 'webgl') {
    throw new BackendError(`unknown backend "${String(prefer)}": expected auto, webgpu, wasm, webgl or cpu`);
  }
  if (prefer !== 'auto') {
    const attempt = await tryBackend(prefer, true, true);
    if (!attempt.ok) throw new BackendError(`backend "${prefer}" could not start: ${attempt.reason}`);
    await installKernelsFor(prefer, { threads: options.threads });
    return { backend: prefer, adapter: attempt.adapter, fellBackFrom: null, reason: null };
  }

  let first: { name: BackendName; reason: string } | null = null;
  for (const name of AUTO_ORDER) {
    const attempt = await tryBackend(name, options.allowSoftwareWebGPU ?? false, false);
    if (attempt.ok) {
      await installKernelsFor(name, { threads: options.threads });
      return {
        backend: name,
        adapter: attempt.adapter,
        fellBackFrom: first?.name ?? null,
        reason: first?.reason ?? null,
      };
    }
    first ??= { name, reason: attempt.reason };
  }
  throw new BackendError(`no backend could start; ${first?.name} failed first: ${first?.reason}`);
}

type Attempt = { ok: true; adapter: AdapterInfo | null } | { ok: false; reason: string };

async function tryBackend(name: BackendName, allowSoftware: boolean, explicit: boolean): Promise<Attempt> {
  let adapter: AdapterInfo | null = null;
  try {
    if (name === 'webgpu') {
      const found = await findWebGPU({ explicit });
      if (!found.ok) return found;
      adapter = found.adapter;
      if (adapter.software && !allowSoftware) {
        return { ok: false, reason: `the WebGPU adapter is a software emulation (${describe(adapter)}); wasm is faster` };
      }
    } else if (name === 'webgl') {
      const missing = await loadWebGL();
      if (missing) return { ok: false, reason: missing };
    }
    const ok = await silenced(() => tf.setBackend(name));
    await tf.ready();
    if (!ok || tf.getBackend() !== name) {
      return { ok: false, reason: `tfjs could not initialise it (it is on "${tf.getBackend()}")` };
    }
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  if (name === 'cpu') {
    // tfjs-backend-cpu prints an advert for tfjs-node on first use in Node; it cannot install here.
    (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  }
  return { ok: true, adapter };
}

function describe(a: AdapterInfo): string {
  return [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'unnamed adapter';
}

/** tfjs logs failed backend inits with console.warn; the reason goes into our result instead. */
async function silenced<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}
