import type { BackendInfo } from '@tx/core';

/** The line the page shows about the backend: never hide a fallback from the reader. */
export function backendLabel(info: BackendInfo): string {
  const name = info.backend === 'webgpu' && info.adapter
    ? `WebGPU (${[info.adapter.vendor, info.adapter.architecture].filter(Boolean).join(' ') || 'unnamed adapter'}${info.adapter.software ? ', software' : ''})`
    : info.backend;
  return info.fellBackFrom ? `Running on ${name}: ${info.fellBackFrom} was unavailable (${info.reason})` : `Running on ${name}`;
}
