import fs from 'node:fs';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { defineConfig } from 'vitest/config';
import { CONTENT_SECURITY_POLICY, ISOLATION_HEADERS } from './src/hosting/headers.ts';

/** INSTALLED.json of the weights (scripts/install-weights.mjs): the service worker caches them by its integrity. */
function installedWeights(): unknown {
  try {
    const { integrity, files } = JSON.parse(fs.readFileSync('public/models/resnet50/INSTALLED.json', 'utf8'));
    return { integrity, files };
  } catch {
    return null;
  }
}

/**
 * The CSP as a <meta> tag of the built page, so that it holds on any host. Not in `vite` (dev):
 * the React plugin's hot-reload preamble is an inline script.
 */
const contentSecurityPolicyMeta: Plugin = {
  name: 'finetune-lab:csp-meta',
  apply: 'build',
  // Right after <meta charset>, before anything the policy governs.
  transformIndexHtml: (html) => html.replace(/<meta charset="UTF-8" \/>/, `$&\n    <meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}" />`),
};

export default defineConfig({
  // Every URL relative to the page: dist/ works under any path of any static host.
  base: './',
  define: { __FINETUNE_LAB_WEIGHTS__: JSON.stringify(installedWeights()) },
  plugins: [
    react(),
    contentSecurityPolicyMeta,
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/hosting',
      filename: 'service-worker.ts',
      injectRegister: false, // src/hosting/register.ts: it also reloads once for cross-origin isolation
      manifest: false,
      injectManifest: {
        // The app shell: the page, its scripts and styles, the WASM binaries. The weights (103 MB)
        // are cached by the worker's own route, whole or not at all.
        globPatterns: ['**/*.{html,js,css,wasm,svg}'],
        globIgnores: ['models/**'],
        maximumFileSizeToCacheInBytes: 32 * 1024 * 1024,
        rollupFormat: 'iife',
      },
    }),
  ],
  // WASM threads need SharedArrayBuffer, which needs a cross-origin-isolated page; the CSP as a
  // header too, so that it also covers the workers (a <meta> policy binds the page only).
  server: { headers: { ...ISOLATION_HEADERS } },
  preview: { headers: { ...ISOLATION_HEADERS, 'Content-Security-Policy': CONTENT_SECURITY_POLICY }, port: 4173, strictPort: true },
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
