// What initBackend says about a WebGPU adapter, and the result of looking for
// one; shared by the Node and browser sides of `#platform`.

/** A WebGPU adapter as initBackend reports it. */
export interface AdapterInfo {
  /** The adapter's vendor, e.g. `nvidia` or `google` (SwiftShader); may be empty. */
  vendor: string;
  /** The GPU family, e.g. `ampere` or `swiftshader`; may be empty. */
  architecture: string;
  /** A vendor-specific device name or id; may be empty. */
  device: string;
  /** A human-readable name of the adapter; may be empty. */
  description: string;
  /** True for CPU emulations of a GPU (SwiftShader, lavapipe): correct but slow. */
  software: boolean;
}

/** A WebGPU adapter ready for tfjs's webgpu backend, or why there is none. */
export type Found = { ok: true; adapter: AdapterInfo } | { ok: false; reason: string };

/** The adapter's description, and whether it is a CPU emulation. */
export function describeAdapter(raw: Partial<GPUAdapterInfo> | undefined, fallback: boolean): AdapterInfo {
  const info = {
    vendor: raw?.vendor ?? '',
    architecture: raw?.architecture ?? '',
    device: raw?.device ?? '',
    description: raw?.description ?? '',
  };
  const text = Object.values(info).join(' ').toLowerCase();
  return { ...info, software: fallback || /swiftshader|llvmpipe|lavapipe|software/.test(text) };
}

/** AdapterInfo of a live GPUAdapter (its `info`, or the older `requestAdapterInfo()`). */
export async function adapterInfo(adapter: GPUAdapter): Promise<AdapterInfo> {
  const raw = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info ??
    (await (adapter as unknown as { requestAdapterInfo(): Promise<GPUAdapterInfo> }).requestAdapterInfo());
  return describeAdapter(raw, (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true);
}
