// Chromium, the built page on wasm: what keeping a trained model costs a user at 224 px. The demo
// set trains one head-only epoch; then five photos are predicted with heat maps (the times each
// row reports), the model zip is exported (click to saved download) and imported into a fresh page.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { preview } from 'vite';
import { hasShared, PHOTOS_DIR } from '../tests/helpers/paths';
import { median, printTable } from './shared';

const PORT = 4180;
const IMAGES = 5;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

export async function benchTrainedBrowser(): Promise<void> {
  if (!hasShared()) {
    process.stdout.write('\ntrained-browser: skipped, ../shared (the photo) is not there\n');
    return;
  }
  const server = await preview({ preview: { port: PORT, strictPort: true, host: '127.0.0.1' }, logLevel: 'silent' });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-lab-bench-'));
  try {
    const page = await browser.newPage({ acceptDownloads: true });
    await page.goto(`http://127.0.0.1:${PORT}/?backend=wasm`);
    await page.getByTestId('model-ready').waitFor({ timeout: 120_000 });
    await page.getByTestId('demo-button').click();
    await page.locator('[data-testid="dataset-panel"][data-status="ready"]').waitFor({ timeout: 60_000 });
    await page.getByTestId('image-size').selectOption('224');
    await page.getByTestId('epochs').fill('1');
    await page.getByTestId('train-start').click();
    await page.locator('[data-testid="training-progress"][data-status="completed"]').waitFor({ timeout: 10 * 60_000 });

    const photo = fs.readFileSync(path.join(PHOTOS_DIR, 'chelsea.png'));
    await page.getByTestId('predict-input').setInputFiles(Array.from({ length: IMAGES }, (_, i) => ({ name: `chelsea-${i}.png`, mimeType: 'image/png', buffer: photo })));
    const rows = page.locator('[data-testid="prediction"][data-status="done"]');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="prediction"][data-status="done"]').length >= n, IMAGES, { timeout: 5 * 60_000 });
    const predictMs: number[] = [];
    const heatMapMs: number[] = [];
    for (let i = 0; i < IMAGES; i++) {
      predictMs.push(Number(await rows.nth(i).getAttribute('data-ms')));
      heatMapMs.push(Number(await rows.nth(i).getAttribute('data-heatmap-ms')));
    }

    const started = Date.now();
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 5 * 60_000 }), page.getByTestId('export-tfjs').click()]);
    const zipPath = path.join(dir, 'model.zip');
    await download.saveAs(zipPath);
    const exportMs = Date.now() - started;
    const zipBytes = fs.statSync(zipPath).size;

    const fresh = await browser.newPage();
    await fresh.goto(`http://127.0.0.1:${PORT}/?backend=wasm`);
    await fresh.getByTestId('model-ready').waitFor({ timeout: 120_000 });
    const importStart = Date.now();
    await fresh.getByTestId('import-model-input').setInputFiles(zipPath);
    await fresh.locator('[data-testid="trained-model"][data-origin="imported"]').waitFor({ timeout: 5 * 60_000 });
    const importMs = Date.now() - importStart;

    const threads = await page.getByTestId('backend-badge').getAttribute('data-threads');
    printTable(`Keeping a trained model, Chromium, wasm (${threads} threads), 224 px, head-only demo model`, [
      [`predict, one image (decode + preprocess + forward; median of ${IMAGES})`, `${median(predictMs).toFixed(0)} ms (${predictMs.map((t) => t.toFixed(0)).join(', ')})`],
      [`Grad-CAM heat map, one image: its gradient after the shared forward pass (median of ${IMAGES})`, `${median(heatMapMs).toFixed(0)} ms (${heatMapMs.map((t) => t.toFixed(0)).join(', ')})`],
      ['export TF.js zip, click to saved download', `${exportMs} ms, ${(zipBytes / 1e6).toFixed(1)} MB`],
      ['import that zip into a fresh page, pick to ready', `${importMs} ms`],
    ]);
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
