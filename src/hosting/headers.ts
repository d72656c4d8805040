// The headers that make the page cross-origin isolated (WASM threads need SharedArrayBuffer) and
// the Content Security Policy that lets nothing leave the origin. One list, used by the dev and
// preview servers (vite.config.ts), the <meta> tag of the built page, and the service worker,
// which adds them on hosts that send none.

export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Everything from this origin only. The exceptions, each for what needs it:
 * - `'wasm-unsafe-eval'`: compiling tfjs-backend-wasm's binaries (no JavaScript eval is allowed);
 * - `worker-src blob:` and `script-src blob:`: the threaded WASM binary starts each pthread as a
 *   worker from a Blob, which then imports the binary's factory from another Blob (importScripts,
 *   governed by script-src). Blobs are made by the page's own scripts only;
 * - `img-src blob: data:`: thumbnails, previews and heat maps are object URLs, chart PNG export
 *   draws the chart's SVG from a data URL.
 * `frame-ancestors` would also belong here, but a <meta> policy cannot carry it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' blob: 'wasm-unsafe-eval'",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');
