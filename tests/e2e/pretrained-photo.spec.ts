// The built page loads the real ResNet50 in its training worker and classifies a real photo, on
// WASM (one thread per logical core: the page is cross-origin isolated) and on WebGPU (SwiftShader
// here), with the same top-1, no console error and no request outside the page's origin; WASM on
// one thread gives the same answer as on all of them.

import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '../helpers/e2e-test';
import type { Page } from '@playwright/test';
import { hasShared, PHOTOS_DIR } from '../helpers/paths';

const EXPECTED = hasShared()
  ? (JSON.parse(fs.readFileSync(path.join(PHOTOS_DIR, 'EXPECTED.json'), 'utf8')) as {
      expected: Record<string, { classes: number[]; min_top1_prob: number }>;
    }).expected
  : {};

interface PageRun {
  backend: string | null;
  /** WASM threads the badge reports, and the page's navigator.hardwareConcurrency. */
  threads: number | null;
  cores: number;
  loadText: string;
  top1: { index: number; label: string; percent: number };
  forwardMs: number;
  consoleErrors: string[];
  foreignRequests: string[];
}

async function classifyIn(page: Page, origin: string, backend: 'wasm' | 'webgpu', photo: string, threads?: number): Promise<PageRun> {
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== origin) {
      foreignRequests.push(request.url());
    }
  });

  await page.goto(`/?backend=${backend}${threads ? `&threads=${threads}` : ''}`);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  // Stop at the first outcome: a failure shows its message instead of a long timeout.
  const outcome = page.getByTestId('model-ready').or(page.getByRole('alert'));
  await expect(outcome.first()).toBeVisible({ timeout: 8 * 60_000 });
  await expect(page.getByTestId('model-ready'), await page.locator('main').innerText()).toBeVisible({ timeout: 1 });
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', backend);

  await page.getByTestId('photo-input').setInputFiles(path.join(PHOTOS_DIR, photo));
  const check = page.getByTestId('photo-check').first();
  await expect(check).toHaveAttribute('data-status', 'done', { timeout: 8 * 60_000 });
  const first = check.getByTestId('photo-ranking').locator('li').first();
  const percent = Number((await first.locator('.ranking-value').textContent())!.replace('%', ''));
  const threadsText = await page.getByTestId('backend-badge').getAttribute('data-threads');
  return {
    backend: await page.getByTestId('backend-badge').getAttribute('data-backend'),
    threads: threadsText === null ? null : Number(threadsText),
    cores: await page.evaluate(() => navigator.hardwareConcurrency),
    loadText: (await page.getByTestId('model-ready').textContent())!,
    top1: {
      index: Number(await first.getAttribute('data-class-index')),
      label: (await first.locator('.ranking-label').textContent())!,
      percent,
    },
    forwardMs: Number(await check.getByTestId('forward-ms').textContent()),
    consoleErrors,
    foreignRequests,
  };
}

test.describe('pretrained ResNet50 in the page (needs ../shared)', () => {
  test.skip(!hasShared(), '../shared is not there');
  test.describe.configure({ mode: 'serial' });
  const photo = 'chelsea.png';
  const runs: Partial<Record<'wasm' | 'webgpu', PageRun>> = {};

  for (const backend of ['wasm', 'webgpu'] as const) {
    test(`classifies ${photo} on ${backend}`, async ({ page, baseURL }, testInfo) => {
      const run = await classifyIn(page, new URL(baseURL!).origin, backend, photo);
      runs[backend] = run;
      testInfo.annotations.push({ type: 'measured', description: `${backend}: ${run.loadText.trim()} | top-1 ${run.top1.label} ${run.top1.percent}% | forward ${run.forwardMs} ms` });
      await page.screenshot({ path: testInfo.outputPath(`photo-check-${backend}.png`), fullPage: true });
      fs.mkdirSync('test-results', { recursive: true });
      fs.writeFileSync(`test-results/measured-${backend}.json`, JSON.stringify(run, null, 2));

      expect(run.backend).toBe(backend);
      // Our kernels run on every core (tfjs-wasm's own pool, which caps itself at half of them, runs one thread).
      if (backend === 'wasm') expect(run.threads).toBe(run.cores);
      const want = EXPECTED[photo]!;
      expect(want.classes).toContain(run.top1.index);
      expect(run.top1.percent / 100).toBeGreaterThanOrEqual(want.min_top1_prob);
      expect(run.consoleErrors).toEqual([]);
      expect(run.foreignRequests).toEqual([]);
    });
  }

  test(`classifies ${photo} on wasm with one thread (?threads=1) as with every core`, async ({ page, baseURL }) => {
    test.skip(!runs.wasm, 'needs the wasm run');
    const single = await classifyIn(page, new URL(baseURL!).origin, 'wasm', photo, 1);
    expect(single.threads).toBe(1);
    expect(single.top1).toEqual(runs.wasm!.top1);
    expect(single.consoleErrors).toEqual([]);
  });

  test('gives the same top-1 on both backends', () => {
    test.skip(!runs.wasm || !runs.webgpu, 'needs both backend runs');
    expect(runs.webgpu!.top1.index).toBe(runs.wasm!.top1.index);
    expect(Math.abs(runs.webgpu!.top1.percent - runs.wasm!.top1.percent)).toBeLessThan(1);
  });
});
