import { describe, expect, it } from 'vitest';
import { backendChoice, backendLabel } from './backend-label.js';

describe('backendLabel', () => {
  it('names the WebGPU adapter', () => {
    const adapter = { vendor: 'nvidia', architecture: 'ampere', device: '', description: '', software: false };
    expect(backendLabel({ backend: 'webgpu', adapter, fellBackFrom: null, reason: null })).toBe('Running on WebGPU (nvidia ampere)');
  });

  it('says when it fell back, and why', () => {
    expect(backendLabel({ backend: 'wasm', adapter: null, fellBackFrom: 'webgpu', reason: 'this browser has no navigator.gpu' })).toBe(
      'Running on wasm: webgpu was unavailable (this browser has no navigator.gpu)',
    );
  });

  it('says wasm was taken because the only WebGPU adapter is SwiftShader', () => {
    // The reason @tx/core gives for Chromium's SwiftShader adapter (vendor "google", architecture "swiftshader").
    const reason = 'the WebGPU adapter is a software emulation (google swiftshader); wasm is faster';
    expect(backendLabel({ backend: 'wasm', adapter: null, fellBackFrom: 'webgpu', reason })).toBe(
      'Running on wasm: the only WebGPU adapter is a software fallback (SwiftShader), slower than wasm',
    );
  });
});

describe('backendChoice', () => {
  const choose = (query: string) => backendChoice(new URLSearchParams(query));

  it('by default refuses a software WebGPU adapter, so wasm is taken over SwiftShader', () => {
    expect(choose('')).toEqual({ prefer: 'auto', allowSoftwareWebGPU: false });
    expect(choose('backend=auto')).toEqual({ prefer: 'auto', allowSoftwareWebGPU: false });
  });

  it('?backend=webgpu asks for WebGPU on purpose, software adapter included', () => {
    expect(choose('backend=webgpu')).toEqual({ prefer: 'webgpu', allowSoftwareWebGPU: true });
    expect(choose('backend=wasm')).toEqual({ prefer: 'wasm', allowSoftwareWebGPU: false });
  });
});
