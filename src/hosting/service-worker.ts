// The lab's one service worker (built by vite-plugin-pwa into service-worker.js beside
// index.html). It does three things:
// - cross-origin isolation on any host: every response it hands the page gets COOP/COEP (and the
//   CSP, which then also covers the workers), as coi-serviceworker does, so WASM gets its threads
//   after one reload where the host sends no such headers;
// - the app shell for offline visits: Workbox precaches index.html, the scripts, styles and WASM
//   binaries of this build, atomically and by revision, and drops those of older builds;
// - the pretrained weights for offline visits, in a cache keyed by their integrity (weights-cache.ts).
// Workbox over coi-serviceworker: precaching with revisions, atomic installs and cleanup is
// Workbox's job, and coi-serviceworker's part (adding headers) is a few lines in a Workbox plugin;
// coi-serviceworker itself caches nothing.

import { addPlugins, cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute, setDefaultHandler } from 'workbox-routing';
import { NetworkOnly } from 'workbox-strategies';
import type { WorkboxPlugin } from 'workbox-core/types';
import { CONTENT_SECURITY_POLICY, ISOLATION_HEADERS } from './headers';
import { createWeightsCache, type WeightsManifest } from './weights-cache';
import type { FromServiceWorker, ToServiceWorker } from './messages';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | { url: string; revision: string | null })[] };
/** INSTALLED.json of the weights this build ships with (vite.config.ts), or null when none were installed. */
declare const __FINETUNE_LAB_WEIGHTS__: WeightsManifest | null;

/** The response with the isolation headers and the CSP; opaque responses cannot be rebuilt and need none. */
function isolated(response: Response): Response {
  if (response.status === 0 || response.type === 'opaque' || response.type === 'opaqueredirect') return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
  headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

const isolation: WorkboxPlugin = { handlerWillRespond: async ({ response }) => isolated(response) };

// Chrome refuses a fetch() of a request with cache 'only-if-cached' outside mode 'same-origin'
// (DevTools sends such requests); left to the network, as coi-serviceworker does.
self.addEventListener('fetch', (event) => {
  if (event.request.cache === 'only-if-cached' && event.request.mode !== 'same-origin') event.stopImmediatePropagation();
});

const broadcast = async (message: FromServiceWorker) => {
  for (const client of await self.clients.matchAll({ includeUncontrolled: true })) client.postMessage(message);
};

const weights = __FINETUNE_LAB_WEIGHTS__
  ? createWeightsCache({
      caches: self.caches,
      manifest: __FINETUNE_LAB_WEIGHTS__,
      baseUrl: new URL('models/resnet50/', self.registration.scope).href,
      fetch: (request) => fetch(request),
      onComplete: (status) => void broadcast({ type: 'weights/status', status }),
    })
  : null;

if (weights) {
  registerRoute(
    ({ url }) => weights.handles(url.href),
    async ({ request, event }) => isolated(await weights.respond(request, (work) => (event as ExtendableEvent).waitUntil(work))),
  );
}

addPlugins([isolation]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
// Any page URL (?backend=…, ?threads=…) is this build's index.html.
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));
setDefaultHandler(new NetworkOnly({ plugins: [isolation] }));

// A first visit's page (and its workers) comes under this worker at once, so that the weights
// it fetches are cached; isolation still needs the reload the page does itself.
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  const message = event.data as ToServiceWorker;
  if (message?.type !== 'weights/status?') return;
  const reply = (status: { complete: boolean; bytes: number }) => event.ports[0]?.postMessage({ type: 'weights/status', status } satisfies FromServiceWorker);
  event.waitUntil((weights ? weights.status() : Promise.resolve({ complete: false, bytes: 0 })).then(reply));
});
