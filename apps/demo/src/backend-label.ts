import type { BackendInfo, BackendPreference } from '@tx/core';

/**
 * What the page asks initBackend for. By default ('auto') a software WebGPU
 * adapter (SwiftShader: `isFallbackAdapter`, or an adapter whose vendor or
 * architecture says swiftshader) is refused and wasm is used: SwiftShader
 * made the site ready in 12 s against 2.5 s on wasm, and trained about 170x
 * slower. `?backend=webgpu` (etc.) names a backend and gets it, software
 * adapter included: the browser tests exercise WebGPU on SwiftShader that way.
 */
export function backendChoice(params: URLSearchParams): { prefer: BackendPreference; allowSoftwareWebGPU: boolean } {
  const named = params.get('backend');
  const prefer = (named && named !== 'auto' ? named : 'auto') as BackendPreference;
  return { prefer, allowSoftwareWebGPU: prefer === 'webgpu' };
}

/** The line the page shows about the backend: never hide a fallback from the reader. */
export function backendLabel(info: BackendInfo): string {
  const name = info.backend === 'webgpu' && info.adapter
    ? `WebGPU (${[info.adapter.vendor, info.adapter.architecture].filter(Boolean).join(' ') || 'unnamed adapter'}${info.adapter.software ? ', software' : ''})`
    : info.backend;
  if (info.fellBackFrom === 'webgpu' && /software/.test(info.reason ?? '')) {
    // @tx/core's reason: "the WebGPU adapter is a software emulation (google swiftshader ...); wasm is faster".
    const which = /swiftshader/i.test(info.reason ?? '') ? 'SwiftShader' : /lavapipe|llvmpipe/i.test(info.reason ?? '') ? 'lavapipe' : 'a CPU emulation';
    return `Running on ${name}: the only WebGPU adapter is a software fallback (${which}), slower than wasm`;
  }
  return info.fellBackFrom ? `Running on ${name}: ${info.fellBackFrom} was unavailable (${info.reason})` : `Running on ${name}`;
}
