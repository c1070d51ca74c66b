// The demo's entry: start the best backend and say which one we got. The
// views (attention as light, one token's arithmetic, positions, training,
// generation, cross-attention) arrive with issue 8.
import { initBackend } from '@tx/core';
import { backendLabel } from './backend-label.js';

const status = document.querySelector<HTMLParagraphElement>('#backend')!;
initBackend({ prefer: 'auto', allowSoftwareWebGPU: true }).then(
  (info) => {
    status.textContent = backendLabel(info);
    status.dataset.backend = info.backend;
  },
  (err: Error) => {
    status.textContent = `No backend could start: ${err.message}`;
  },
);
