#!/usr/bin/env node
// A plain static file server for dist/, as a host without header control serves it: no
// COOP/COEP, no CSP headers, the page under a sub-path. `npm run serve:static` runs it; the e2e
// tests of the hosted page use `serveStatic` with a hook to break things.
//
//   node scripts/serve-static.mjs [--dir dist] [--base /some/path/lab/] [--port 4175] [--isolation-headers]
//
// --isolation-headers sends COOP/COEP as a host with header control would (Netlify's _headers,
// nginx): the page is then isolated without the service worker's reload.

import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';

/**
 * Serves `dir` under `base`. `intercept(request, response)` may answer a request itself (return
 * true). Resolves to { url, close, bytesServed(), requests() }.
 */
export function serveStatic({ dir, base = '/', port = 0, host = '127.0.0.1', isolationHeaders = false, intercept }) {
  const files = sirv(dir, { etag: true });
  let bytes = 0;
  let count = 0;
  const server = http.createServer((request, response) => {
    count += 1;
    const write = response.write.bind(response);
    const end = response.end.bind(response);
    response.write = (chunk, ...rest) => {
      if (chunk) bytes += Buffer.byteLength(chunk);
      return write(chunk, ...rest);
    };
    response.end = (chunk, ...rest) => {
      if (chunk && typeof chunk !== 'function') bytes += Buffer.byteLength(chunk);
      return end(chunk, ...rest);
    };
    if (isolationHeaders) {
      response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    if (intercept?.(request, response)) return;
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(base)) {
      response.statusCode = 404;
      response.end(`Not here: the lab is under ${base}`);
      return;
    }
    request.url = '/' + url.pathname.slice(base.length) + url.search;
    files(request, response, () => {
      response.statusCode = 404;
      response.end('Not found');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        url: `http://${host}:${address.port}${base}`,
        bytesServed: () => bytes,
        requests: () => count,
        resetCounts: () => {
          bytes = 0;
          count = 0;
        },
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const index = args.indexOf(name);
    return index >= 0 && args[index + 1] ? args[index + 1] : fallback;
  };
  let base = option('--base', '/lab/');
  if (!base.startsWith('/')) base = `/${base}`;
  if (!base.endsWith('/')) base = `${base}/`;
  const dir = path.resolve(option('--dir', 'dist'));
  const { url } = await serveStatic({ dir, base, port: Number(option('--port', '4175')), isolationHeaders: args.includes('--isolation-headers') });
  process.stdout.write(`Serving ${dir} at ${url} (${args.includes('--isolation-headers') ? 'with' : 'no'} COOP/COEP headers). Ctrl-C stops.\n`);
}
