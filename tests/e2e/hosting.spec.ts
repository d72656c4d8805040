// The hosted page: dist/ copied under a sub-path of a plain static server that sends no
// COOP/COEP headers (scripts/serve-static.mjs). The service worker makes the page cross-origin
// isolated after one reload, WASM gets a thread per core, the demo trains; a second visit with
// no network at all loads the model from the cache and trains; the CSP holds and nothing is
// requested outside the origin; a browser without service workers, a service worker script that
// is gone after an update, and a host that sends the headers itself all leave a working lab.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from '@playwright/test';
import { serveStatic, type StaticServer } from '../../scripts/serve-static.mjs';
import { expect, test, watchPolicyViolations } from '../helpers/e2e-test';
import { chooseDemo } from '../helpers/page';

const SUB_PATH = '/some/path/lab/';
const PORT = 4176;

let root: string;
/** What the static server answers for service-worker.js: the file, or a 404 as after a botched update. */
let serviceWorkerScript: 'file' | 'missing' = 'file';

test.beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-lab-static-'));
  fs.cpSync('dist', path.join(root, SUB_PATH), { recursive: true });
});
test.afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Serves the copy; `url` is the lab's page, under the sub-path. */
async function start(options: { isolationHeaders?: boolean } = {}): Promise<StaticServer> {
  serviceWorkerScript = 'file';
  const server = await serveStatic({
    dir: root,
    port: PORT,
    isolationHeaders: options.isolationHeaders ?? false,
    intercept: (request, response) => {
      if (serviceWorkerScript === 'missing' && request.url?.split('?')[0]?.endsWith('/service-worker.js')) {
        response.statusCode = 404;
        response.end('gone');
        return true;
      }
      return false;
    },
  });
  return { ...server, url: new URL(SUB_PATH, server.url).href };
}

/** Every request of the context (pages, workers, the service worker) that leaves the origin. */
function foreignRequests(context: BrowserContext, origin: string): string[] {
  const foreign: string[] = [];
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== origin) foreign.push(request.url());
  });
  return foreign;
}

/** Opens the page and waits for the model; returns ms from navigation to model ready and the navigations seen. */
async function openLab(page: Page, url: string): Promise<{ ms: number; navigations: number }> {
  let navigations = 0;
  const count = (frame: { parentFrame(): unknown }) => {
    if (frame.parentFrame() === null) navigations += 1;
  };
  page.on('framenavigated', count);
  const t0 = Date.now();
  await page.goto(`${url}?backend=wasm`);
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 5 * 60_000 });
  const ms = Date.now() - t0;
  page.off('framenavigated', count);
  return { ms, navigations };
}

async function trainDemo(page: Page) {
  await chooseDemo(page, { sizePx: 64, epochs: 1 });
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('training-progress')).toHaveAttribute('data-status', 'completed', { timeout: 5 * 60_000 });
}

async function pageFacts(page: Page) {
  return page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency, controlled: navigator.serviceWorker?.controller != null }));
}

test.describe('the built page on a plain static host', () => {
  test.use({ serviceWorkers: 'allow' });

  test('isolated after one reload, then offline on the second visit', async ({ browser }) => {
    const server = await start();
    const context = await browser.newContext();
    const violations = await watchPolicyViolations(context);
    const foreign = foreignRequests(context, new URL(server.url).origin);
    const page = await context.newPage();
    try {
      const first = await openLab(page, server.url);
      const facts = await pageFacts(page);
      expect(facts.isolated).toBe(true);
      expect(facts.controlled).toBe(true);
      expect(first.navigations).toBe(2); // the visit and the one reload
      const badge = page.getByTestId('backend-badge');
      await expect(badge).toHaveAttribute('data-backend', 'wasm');
      await expect(badge).toHaveAttribute('data-threads', String(facts.cores));
      await expect(badge).toHaveAttribute('data-isolated', 'true');
      await trainDemo(page);
      // The weights are stored whole once the model has loaded.
      await expect(page.getByTestId('offline-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
      const firstBytes = server.bytesServed();
      console.info(`first visit: model ready after ${first.ms} ms, ${server.requests()} requests, ${firstBytes} bytes from the server`);
      expect(firstBytes).toBeGreaterThan(100_000_000);

      // Second visit, with the server gone and the browser offline.
      await server.close();
      await context.setOffline(true);
      const second = await openLab(page, server.url);
      expect((await pageFacts(page)).isolated).toBe(true);
      // Debian's Chromium 150 gives a document loaded under offline emulation navigator.onLine ===
      // true until the emulated network changes again (156 did not): tell it again, as a real
      // network going away would. The server is closed either way, so what loaded came from the cache.
      if (!(await page.evaluate(() => navigator.onLine === false))) {
        await context.setOffline(false);
        await context.setOffline(true);
      }
      await expect(page.getByTestId('offline-status')).toHaveAttribute('data-state', 'offline');
      await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-threads', String(facts.cores));
      console.info(`second visit, offline: model ready after ${second.ms} ms, ${second.navigations} navigation(s), 0 bytes from the server (it was closed)`);
      expect(second.navigations).toBe(1);
      await trainDemo(page);
      expect(violations).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
      await server.close().catch(() => undefined);
    }
  });

  test('a service worker script gone after an update leaves the lab working', async ({ browser }) => {
    const server = await start();
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await openLab(page, server.url);
      expect((await pageFacts(page)).isolated).toBe(true);
      await expect(page.getByTestId('offline-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });

      // A second visit online: the page, its scripts and the model come from the caches; the
      // browser only asks whether the service worker changed.
      server.resetCounts();
      const second = await openLab(page, server.url);
      console.info(`second visit, online: model ready after ${second.ms} ms, ${server.requests()} request(s), ${server.bytesServed()} bytes from the server`);
      expect(server.bytesServed()).toBeLessThan(1_000_000);

      serviceWorkerScript = 'missing';
      const again = await openLab(page, server.url);
      const facts = await pageFacts(page);
      expect(facts).toMatchObject({ isolated: true, controlled: true });
      expect(again.navigations).toBe(1);
      await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-threads', String(facts.cores));

      // A first visit whose service worker never existed: one thread, and the badge says why.
      const fresh = await browser.newContext();
      const other = await fresh.newPage();
      const visit = await openLab(other, server.url);
      expect(visit.navigations).toBe(1);
      const badge = other.getByTestId('backend-badge');
      await expect(badge).toHaveAttribute('data-isolated', 'false');
      await expect(badge).toHaveAttribute('data-threads', '1');
      await expect(badge).toHaveAttribute('data-hosting', 'failed');
      await expect(badge).toHaveAttribute('title', /service worker did not start .* no COOP\/COEP headers/s);
      await fresh.close();
    } finally {
      await context.close();
      await server.close();
    }
  });

  test('a host that sends the headers needs no reload', async ({ browser }) => {
    const server = await start({ isolationHeaders: true });
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      const visit = await openLab(page, server.url);
      expect(visit.navigations).toBe(1);
      expect(await pageFacts(page)).toMatchObject({ isolated: true, controlled: true });
      await expect(page.getByTestId('offline-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    } finally {
      await context.close();
      await server.close();
    }
  });
});

test.describe('the built page where service workers are off', () => {
  test.use({ serviceWorkers: 'block' });

  test('works on one thread, and the badge says why', async ({ page }) => {
    const server = await start();
    try {
      const visit = await openLab(page, server.url);
      expect(visit.navigations).toBe(1);
      const badge = page.getByTestId('backend-badge');
      await expect(badge).toHaveAttribute('data-isolated', 'false');
      await expect(badge).toHaveAttribute('data-threads', '1');
      await expect(badge).toHaveAttribute('title', /Not cross-origin isolated: .*(service workers are off|service worker did not start)/s);
    } finally {
      await server.close();
    }
  });
});
