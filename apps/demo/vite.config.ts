import { defineConfig } from 'vite';

// Cross-origin isolation (COOP + COEP): the page may then share memory with
// Web Workers, so @tx's wasm kernels run on several threads (main.ts keeps
// tfjs-wasm's own single-threaded build: see there). A static host needs the
// same two headers for that; without them the site runs on one thread.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  build: { target: 'es2022', outDir: 'dist' },
  server: { headers: isolation },
  preview: { headers: isolation },
});
