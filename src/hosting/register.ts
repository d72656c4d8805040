// The page's side of the service worker: register it, and reload once when that is what makes
// the page cross-origin isolated. Whatever fails here, the lab still starts (on one WASM thread
// when it is not isolated), and the status says why for the backend badge.

import type { FromServiceWorker, ToServiceWorker } from './messages';
import type { WeightsStatus } from './weights-cache';

export interface HostingStatus {
  crossOriginIsolated: boolean;
  /** 'controlling': this page's requests go through the lab's service worker (offline visits work). */
  serviceWorker: 'controlling' | 'off' | 'failed';
  /** Why the page is not cross-origin isolated (or why offline visits will not work), in words; null when all is well. */
  reason: string | null;
}

const RELOADED = 'finetune-lab:isolation-reload';
/** How long a first visit waits for the service worker to install (the app shell, ~10 MB) before starting without it. */
const INSTALL_TIMEOUT_MS = 30_000;

/** Resolves true once a service worker controls the page; false after the timeout, or when the installing one fails. */
function controllerArrives(container: ServiceWorkerContainer, registration: ServiceWorkerRegistration | undefined, timeoutMs: number): Promise<boolean> {
  if (container.controller) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(container.controller !== null), timeoutMs);
    const done = (value: boolean) => {
      clearTimeout(timer);
      resolve(value);
    };
    container.addEventListener('controllerchange', () => done(true), { once: true });
    // An install that fails (a precached file missing, the storage full) makes the worker redundant.
    const installing = registration?.installing;
    installing?.addEventListener('statechange', () => {
      if (installing.state === 'redundant' && !container.controller) done(false);
    });
  });
}

function session(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage blocked by the browser's settings
  }
}

/**
 * Registers `scriptUrl`, waits until it controls the page, and reloads once if the page is still
 * not cross-origin isolated. Resolves 'reloading' when it has asked for that reload: start nothing.
 */
export async function startServiceWorker(scriptUrl: string): Promise<HostingStatus | 'reloading'> {
  const isolatedNow = globalThis.crossOriginIsolated === true;
  const noHeaders = 'the host sends no COOP/COEP headers';
  const container = 'serviceWorker' in navigator ? navigator.serviceWorker : undefined;
  const off = (why: string): HostingStatus => ({
    crossOriginIsolated: isolatedNow,
    serviceWorker: 'off',
    reason: isolatedNow ? `${why}: the next visit needs the network` : `${why} and ${noHeaders}`,
  });
  if (!container) return off('service workers are off in this browser (a private window or a policy)');
  let registration: ServiceWorkerRegistration | undefined;
  try {
    registration = await container.register(scriptUrl, { scope: './' });
  } catch (error) {
    // An update that fails (its script gone, the network down) leaves the installed worker in charge.
    if (!container.controller) {
      const why = `the service worker did not start (${(error as Error).message})`;
      return { crossOriginIsolated: isolatedNow, serviceWorker: 'failed', reason: isolatedNow ? why : `${why} and ${noHeaders}` };
    }
  }
  // A register() that gives no worker at all: service workers are switched off by something
  // short of removing the API (an extension, a test harness).
  if (!container.controller && !registration?.installing && !registration?.waiting && !registration?.active) {
    return off('service workers are off in this browser (registration gave no worker)');
  }
  const controlled = await controllerArrives(container, registration, INSTALL_TIMEOUT_MS);
  const storage = session();
  if (isolatedNow) {
    storage?.removeItem(RELOADED);
    return controlled
      ? { crossOriginIsolated: true, serviceWorker: 'controlling', reason: null }
      : { crossOriginIsolated: true, serviceWorker: 'failed', reason: 'the service worker did not install: this visit is not stored for offline use' };
  }
  if (!controlled) {
    return { crossOriginIsolated: false, serviceWorker: 'failed', reason: `the service worker did not install (or not within ${INSTALL_TIMEOUT_MS / 1000} s) and ${noHeaders}: reload for threads` };
  }
  if (storage && storage.getItem(RELOADED) === null) {
    storage.setItem(RELOADED, String(Date.now()));
    location.reload();
    return 'reloading';
  }
  return {
    crossOriginIsolated: false,
    serviceWorker: 'controlling',
    reason: storage ? 'the page stayed not cross-origin isolated after reloading under the service worker' : `session storage is blocked, so the page does not reload itself under the service worker (reload once for threads) and ${noHeaders}`,
  };
}

/** Asks the controlling service worker whether the weights are cached; null without one. */
export function weightsStatus(timeoutMs = 5_000): Promise<WeightsStatus | null> {
  const controller = navigator.serviceWorker?.controller;
  if (!controller) return Promise.resolve(null);
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(null), timeoutMs);
    channel.port1.onmessage = (event: MessageEvent<FromServiceWorker>) => {
      clearTimeout(timer);
      resolve(event.data.status);
    };
    controller.postMessage({ type: 'weights/status?' } satisfies ToServiceWorker, [channel.port2]);
  });
}

/** Calls `listener` whenever the service worker says it has stored the whole model. */
export function onWeightsStatus(listener: (status: WeightsStatus) => void): () => void {
  const container = navigator.serviceWorker;
  if (!container) return () => undefined;
  const handler = (event: MessageEvent<FromServiceWorker>) => {
    if (event.data?.type === 'weights/status') listener(event.data.status);
  };
  container.addEventListener('message', handler);
  return () => container.removeEventListener('message', handler);
}
