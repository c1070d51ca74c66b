// Node's side of initBackend (`#platform` resolves here in Node): WebGPU
// through Dawn and tfjs's webgpu backend, optional packages that are loaded by
// name when installed and named, with the command that installs them, when
// not. (WebGL is for browsers only.)
//
// Dawn (the `webgpu` package) is native code that writes straight to stderr
// ("Couldn't load Vulkan ...", the Vulkan loader's and drivers' complaints),
// where no JavaScript can catch it. So this process loads Dawn only when it
// is known to stay quiet:
// - 'auto' leaves Dawn alone on a Linux machine with no GPU device node
//   (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg): WebGPU could only be a CPU
//   emulation there, slower than wasm;
// - a missing Vulkan loader (libvulkan.so.1) or driver is found by looking for
//   files, and named with the package that brings it;
// - then Dawn is tried in a child process, once per Vulkan driver: the default
//   set, each installed driver alone, Debian chromium's SwiftShader (without a
//   GPU, SwiftShader only). The first driver whose child finds an adapter and
//   writes nothing on stderr is the one this process loads (hardware first).
import { spawn } from 'node:child_process';
import { access, readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { adapterInfo, describeAdapter, type AdapterInfo, type Found } from './adapter.js';
import { tf } from './tf.js';

const DAWN = 'webgpu';
const TFJS_WEBGPU = '@tensorflow/tfjs-backend-webgpu';
/** What `npm install` needs to be told, per optional package (the versions @tx/core is tested with). */
const INSTALL: Record<string, string> = { [DAWN]: 'webgpu@0.6', [TFJS_WEBGPU]: `${TFJS_WEBGPU}@4.22.0` };
/** Debian's chromium package installs this Vulkan driver: a GPU emulated on the CPU (docs/performance.md §4). */
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** How long a Dawn probe may take before it counts as failed. */
const PROBE_TIMEOUT_MS = 60_000;

const require = createRequire(import.meta.url);
const installed = (name: string) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
};
/** Import an optional package by name; a variable keeps bundlers from following it. */
const importOptional = (name: string): Promise<unknown> => import(name);

let prepared: Promise<Found> | null = null;

/** An adapter from Dawn (see the header for when it is tried), with tfjs's webgpu backend registered. */
export async function findWebGPU({ explicit }: { explicit: boolean }): Promise<Found> {
  const missing = [DAWN, TFJS_WEBGPU].filter((name) => !installed(name));
  if (missing.length > 0) {
    return fail(`WebGPU in Node needs the optional package${missing.length > 1 ? 's' : ''} ${missing.join(' and ')}: npm install ${missing.map((m) => INSTALL[m]).join(' ')}`);
  }
  const linux = process.platform === 'linux';
  const gpu = !linux || (await gpuDeviceNodes()).length > 0; // elsewhere Dawn uses Metal or D3D12
  if (!explicit && !gpu) return fail('no GPU device here (no /dev/dri/renderD*, /dev/nvidia*, /dev/dxg), so WebGPU could only be a CPU emulation, slower than wasm');
  prepared ??= prepare(linux, gpu);
  return prepared;
}

/** Why webgl cannot start here: tfjs-backend-webgl registers itself only in browsers. */
export async function loadWebGL(): Promise<string | null> {
  return tf.findBackendFactory('webgl') ? null : 'WebGL needs a browser (tfjs-backend-webgl registers itself only there)';
}

async function prepare(linux: boolean, gpu: boolean): Promise<Found> {
  const env = process.env;
  // Vulkan's Wayland/X11 code complains on stderr when this is unset; any writable folder will do.
  env.XDG_RUNTIME_DIR ??= tmpdir();
  if (linux && !(await findLibrary('libvulkan.so.1'))) {
    return fail('Dawn (WebGPU in Node) needs the Vulkan loader libvulkan.so.1, which is not installed (Debian, Ubuntu: apt-get install libvulkan1; Fedora: dnf install vulkan-loader)');
  }
  const drivers = await driverChoices(linux, gpu);
  if (drivers.length === 0) {
    return fail(`there is no GPU and no software Vulkan driver for Dawn: Debian's chromium package installs SwiftShader (apt-get install chromium), or set VK_ICD_FILENAMES to a driver`);
  }
  const dawnUrl = pathToFileURL(require.resolve(DAWN)).href;
  let software: { driver: string | undefined; adapter: AdapterInfo } | null = null;
  let problem: string | null = null;
  for (const driver of drivers) {
    const probe = await probeDawn(dawnUrl, driver);
    if (probe.ok && !probe.adapter.software) return loadDawn(driver);
    if (probe.ok) software ??= { driver, adapter: probe.adapter };
    else problem ??= probe.reason;
  }
  return software ? loadDawn(software.driver) : fail(problem ?? 'Dawn found no WebGPU adapter');
}

/**
 * The values of VK_ICD_FILENAMES to try, in order (undefined: leave it as it
 * is). A driver the user chose is used alone; without a GPU, only SwiftShader.
 */
async function driverChoices(linux: boolean, gpu: boolean): Promise<Array<string | undefined>> {
  if (process.env.VK_ICD_FILENAMES !== undefined || process.env.VK_DRIVER_FILES !== undefined) return [undefined];
  const swiftshader = linux && (await exists(SWIFTSHADER)) ? [SWIFTSHADER] : [];
  if (!gpu) return swiftshader;
  const manifests = linux ? await vulkanManifests() : [];
  return [undefined, ...manifests.filter((m) => m !== SWIFTSHADER), ...swiftshader];
}

type Probe = { ok: true; adapter: AdapterInfo } | { ok: false; reason: string };

const PROBE = `
const { create } = await import(process.argv[1]);
const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
let found = null;
if (adapter) {
  const device = await adapter.requestDevice();
  found = { info: adapter.info ?? (await adapter.requestAdapterInfo?.()), fallback: adapter.isFallbackAdapter === true };
  found.info = { vendor: found.info?.vendor, architecture: found.info?.architecture, device: found.info?.device, description: found.info?.description };
  device.destroy();
}
process.stdout.write(JSON.stringify(found));
process.exit(0);
`;

/** Dawn in a child process with this driver: its adapter, or why not (including anything it wrote on stderr). */
function probeDawn(dawnUrl: string, driver: string | undefined): Promise<Probe> {
  return new Promise((resolve) => {
    const env = driver === undefined ? process.env : { ...process.env, VK_ICD_FILENAMES: driver };
    const child = spawn(process.execPath, ['--input-type=module', '-e', PROBE, dawnUrl], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `could not start a process to try Dawn (${err.message})` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const said = firstLine(stderr);
      const driverName = driver === undefined ? '' : ` with ${driver}`;
      if (signal === 'SIGKILL') return resolve({ ok: false, reason: `Dawn did not answer within ${PROBE_TIMEOUT_MS / 1000} s${driverName}` });
      if (code !== 0) return resolve({ ok: false, reason: `Dawn failed${driverName} (exit code ${code ?? signal})${said ? `: ${said}` : ''}` });
      let found: { info: Partial<GPUAdapterInfo>; fallback: boolean } | null = null;
      try {
        found = JSON.parse(stdout);
      } catch {
        return resolve({ ok: false, reason: `Dawn's answer${driverName} was unreadable${said ? `: ${said}` : ''}` });
      }
      if (!found) return resolve({ ok: false, reason: `Dawn found no WebGPU adapter${driverName}${said ? `: ${said}` : ''}` });
      if (said) return resolve({ ok: false, reason: `Dawn writes warnings${driverName}: ${said}` });
      resolve({ ok: true, adapter: describeAdapter(found.info, found.fallback) });
    });
  });
}

/** Load Dawn in this process with the driver a probe found quiet; expose it as navigator.gpu; register tfjs's webgpu backend. */
async function loadDawn(driver: string | undefined): Promise<Found> {
  if (driver !== undefined) process.env.VK_ICD_FILENAMES = driver;
  const dawn = (await importOptional(DAWN)) as { create(flags: string[]): GPU; globals: object };
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return fail('Dawn found no WebGPU adapter in this process, though it did in a child process');
  Object.assign(globalThis, dawn.globals);
  const g = globalThis as { navigator?: object };
  g.navigator ??= {};
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  // The backend registers itself on import, only if navigator.gpu exists then: which it now does.
  await importOptional(TFJS_WEBGPU);
  if (!tf.findBackendFactory('webgpu')) return fail(`${TFJS_WEBGPU} did not register (in Node, let initBackend import it: imported before, it found no navigator.gpu)`);
  return { ok: true, adapter: await adapterInfo(adapter) };
}

const fail = (reason: string): Found => ({ ok: false, reason });

/** The first line of a native message, without Dawn's "Warning: " and at most 200 characters. */
function firstLine(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  const cut = line.replace(/^Warning: /, '');
  return cut.length > 200 ? `${cut.slice(0, 199)}…` : cut;
}

/** GPU device nodes: DRM render nodes, NVIDIA devices, WSL's /dev/dxg. */
export async function gpuDeviceNodes(): Promise<string[]> {
  const dri = await readdir('/dev/dri').catch(() => [] as string[]);
  const dev = await readdir('/dev').catch(() => [] as string[]);
  return [...dri.filter((n) => n.startsWith('renderD')).map((n) => `/dev/dri/${n}`), ...dev.filter((n) => /^nvidia\d+$|^dxg$/.test(n)).map((n) => `/dev/${n}`)];
}

/** Whether the dynamic linker can find a shared library: LD_LIBRARY_PATH, its cache, the standard folders. */
export async function findLibrary(name: string): Promise<boolean> {
  const cache = await readFile('/etc/ld.so.cache', 'latin1').catch(() => '');
  const cached = cache.split('\0').filter((s) => s.startsWith('/') && s.endsWith(`/${name}`));
  const multiarch = ({ x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' } as Record<string, string>)[process.arch];
  const folders = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    ...(multiarch ? [`/lib/${multiarch}`, `/usr/lib/${multiarch}`] : []),
    '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib',
  ];
  for (const path of [...folders.map((f) => join(f, name)), ...cached]) if (await exists(path)) return true;
  return false;
}

/** The Vulkan driver manifests the loader would find (its documented search folders). */
async function vulkanManifests(): Promise<string[]> {
  const env = process.env;
  const config = [env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), ...(env.XDG_CONFIG_DIRS ?? '/etc/xdg').split(':'), '/etc'];
  const data = [env.XDG_DATA_HOME ?? join(homedir(), '.local/share'), ...(env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':')];
  const found: string[] = [];
  for (const base of [...config, ...data].filter(Boolean)) {
    const dir = join(base, 'vulkan/icd.d');
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names.sort()) if (n.endsWith('.json') && !found.includes(join(dir, n))) found.push(join(dir, n));
  }
  return found;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/**
 * Let V8 compile relaxed SIMD (fused multiply-add for the wasm kernels). Node 20's V8 has it behind
 * a flag that can still be set before a module using it is compiled; later Nodes have it on. The
 * caller validates a module either way. TX_RELAXED_SIMD=off keeps plain SIMD128.
 */
export function enableRelaxedSimd(): boolean {
  if (process.env.TX_RELAXED_SIMD === 'off') return false;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return true;
}

/** The threads this process may run at once (os.availableParallelism: cores, or fewer where the CPU set is limited). */
export function availableCores(): number {
  return availableParallelism();
}

/**
 * Start a worker thread running `main(workerData, ready)` from its source; resolves once it
 * called ready(). The worker does not keep the process alive.
 */
export function spawnWorker(main: string, data: unknown): Promise<{ terminate(): unknown } | null> {
  const source = `const { parentPort, workerData } = require('node:worker_threads');\n${main}(workerData, () => parentPort.postMessage('ready'));`;
  const worker = new Worker(source, { eval: true, workerData: data });
  worker.unref();
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve(worker));
    worker.once('error', reject);
  });
}
