// initBackend: pick the fastest working tfjs backend and say which one we got.
//
// tfjs falls back silently (in browsers `setBackend('webgpu')` can leave you on
// webgl). We never do: the result names the backend in use, and when it is not
// the one preferred, `fellBackFrom` and `reason` say why.
import { BackendError } from './errors.js';
import { tf } from './tf.js';

export type BackendName = 'webgpu' | 'wasm' | 'webgl' | 'cpu';
export type BackendPreference = 'auto' | BackendName;

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU emulations of a GPU (SwiftShader, lavapipe): correct but slow. */
  software: boolean;
}

export interface BackendInfo {
  backend: BackendName;
  /** The WebGPU adapter, when the backend is webgpu. */
  adapter: AdapterInfo | null;
  /** The backend we wanted first and did not get, or null. */
  fellBackFrom: BackendName | null;
  /** Why we fell back, or null. */
  reason: string | null;
}

export interface InitBackendOptions {
  /** 'auto' tries webgpu, then wasm, then cpu. A named backend is used or an error is thrown. */
  prefer?: BackendPreference;
  /**
   * With 'auto', accept a software WebGPU adapter (SwiftShader) instead of
   * falling back to wasm. Off by default: wasm is ~50x faster than SwiftShader.
   */
  allowSoftwareWebGPU?: boolean;
}

const AUTO_ORDER: BackendName[] = ['webgpu', 'wasm', 'cpu'];
const isNode = typeof process !== 'undefined' && !!process.versions?.node;

export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const prefer = options.prefer ?? 'auto';
  if (prefer !== 'auto' && !AUTO_ORDER.includes(prefer) && prefer !== 'webgl') {
    throw new BackendError(`unknown backend "${String(prefer)}": expected auto, webgpu, wasm, webgl or cpu`);
  }
  if (prefer !== 'auto') {
    const attempt = await tryBackend(prefer, true);
    if (!attempt.ok) throw new BackendError(`backend "${prefer}" could not start: ${attempt.reason}`);
    return { backend: prefer, adapter: attempt.adapter, fellBackFrom: null, reason: null };
  }

  let first: { name: BackendName; reason: string } | null = null;
  for (const name of AUTO_ORDER) {
    const attempt = await tryBackend(name, options.allowSoftwareWebGPU ?? false);
    if (attempt.ok) {
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

async function tryBackend(name: BackendName, allowSoftware: boolean): Promise<Attempt> {
  let adapter: AdapterInfo | null = null;
  try {
    if (name === 'webgpu') {
      const found = await prepareWebGPU();
      if (!found.ok) return found;
      adapter = found.adapter;
      if (adapter.software && !allowSoftware) {
        return { ok: false, reason: `the WebGPU adapter is a software emulation (${describe(adapter)}); wasm is faster` };
      }
    } else if (name === 'webgl') {
      await import('@tensorflow/tfjs-backend-webgl');
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

// ---- WebGPU ---------------------------------------------------------------

type Found = { ok: true; adapter: AdapterInfo } | { ok: false; reason: string };
let webgpuPrepared: Promise<Found> | null = null;

/** Make navigator.gpu exist (in Node through Dawn), find an adapter, register tfjs's webgpu backend. */
function prepareWebGPU(): Promise<Found> {
  webgpuPrepared ??= (async (): Promise<Found> => {
    const gpu = isNode ? await nodeGPU() : (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
    if (!gpu) return { ok: false, reason: isNode ? 'the "webgpu" package (Dawn) is not installed' : 'this browser has no navigator.gpu' };
    const found = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!found) return { ok: false, reason: 'no WebGPU adapter (in Node, Dawn needs a Vulkan driver)' };
    const info = await adapterInfo(found);
    // Importing the backend registers it only when navigator.gpu exists, which we have just ensured.
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!tf.findBackendFactory('webgpu')) return { ok: false, reason: 'tfjs-backend-webgpu did not register' };
    return { ok: true, adapter: info };
  })();
  return webgpuPrepared;
}

/** Node: expose Dawn (the `webgpu` package) as navigator.gpu, with SwiftShader as a last resort. */
async function nodeGPU(): Promise<GPU | undefined> {
  let dawn: { create(flags: string[]): GPU; globals: object };
  try {
    const specifier = 'webgpu'; // a variable keeps bundlers from inlining the native addon
    dawn = (await import(specifier)) as typeof dawn;
  } catch {
    return undefined;
  }
  const env = process.env;
  // Vulkan's Wayland/X11 code complains on stderr when this is unset; any writable folder will do.
  env.XDG_RUNTIME_DIR ??= (await import('node:os')).tmpdir();
  // Without a GPU device node there is no hardware to find: go straight to the
  // SwiftShader driver that Debian's chromium ships (GUIDE §3), rather than
  // letting the Vulkan loader probe (and complain about) every installed driver.
  const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
  const userChoseDriver = env.VK_ICD_FILENAMES !== undefined || env.VK_DRIVER_FILES !== undefined;
  if (!userChoseDriver && !(await hasGpuDevice()) && (await fileExists(swiftshader))) env.VK_ICD_FILENAMES = swiftshader;
  let gpu = dawn.create([]);
  if (!(await gpu.requestAdapter()) && !userChoseDriver && env.VK_ICD_FILENAMES !== swiftshader && (await fileExists(swiftshader))) {
    env.VK_ICD_FILENAMES = swiftshader;
    gpu = dawn.create([]);
  }
  Object.assign(globalThis, dawn.globals);
  const g = globalThis as { navigator?: object };
  g.navigator ??= {};
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  return gpu;
}

async function adapterInfo(adapter: GPUAdapter): Promise<AdapterInfo> {
  const raw = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info ??
    (await (adapter as unknown as { requestAdapterInfo(): Promise<GPUAdapterInfo> }).requestAdapterInfo());
  const info = {
    vendor: raw?.vendor ?? '',
    architecture: raw?.architecture ?? '',
    device: raw?.device ?? '',
    description: raw?.description ?? '',
  };
  const text = Object.values(info).join(' ').toLowerCase();
  const fallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return { ...info, software: fallback || /swiftshader|llvmpipe|lavapipe|software/.test(text) };
}

function describe(a: AdapterInfo): string {
  return [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'unnamed adapter';
}

/** A DRM render node or an NVIDIA device: some GPU hardware is present. */
async function hasGpuDevice(): Promise<boolean> {
  const { readdir } = await import('node:fs/promises');
  const dri = await readdir('/dev/dri').catch(() => [] as string[]);
  const dev = await readdir('/dev').catch(() => [] as string[]);
  return dri.some((n) => n.startsWith('renderD')) || dev.some((n) => /^nvidia\d/.test(n));
}

async function fileExists(path: string): Promise<boolean> {
  const { access } = await import('node:fs/promises');
  return access(path).then(() => true, () => false);
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
