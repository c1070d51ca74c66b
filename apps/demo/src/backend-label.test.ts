import { describe, expect, it } from 'vitest';
import { backendLabel } from './backend-label.js';

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
});
