import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// WASM threads need SharedArrayBuffer, which needs a cross-origin-isolated page.
const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [react()],
  server: { headers: crossOriginIsolation },
  preview: { headers: crossOriginIsolation, port: 4173, strictPort: true },
  worker: {
    format: 'es',
    // tfjs-backend-wasm starts its pthreads from the threaded factory's own source text
    // (`factory.toString()` in a Blob). Compression folds the factory's `typeof _scriptDir` guard
    // into a bare reference to a variable that only exists in the bundle, and every pthread then
    // dies with "ReferenceError: e is not defined". Mangling alone keeps the guard.
    rolldownOptions: { output: { minify: { compress: false, mangle: true } } },
  },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // The real model takes ~400 MB per file; one file at a time on 2 cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
