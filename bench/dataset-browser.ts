// Chromium, the built page: images/s through the decode pool with one worker and with the default
// pool, on stamps6 and on generated 1024×768 JPEGs; the longest main-thread task while the pool
// runs (Long Tasks API); Chromium's resident memory at its peak while 10,000 images are read.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import jpeg from 'jpeg-js';
import { preview } from 'vite';
import { hasShared, STAMPS_DIR } from '../tests/helpers/paths';
import { printTable } from './shared';

const PORT = 4178;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

/** A folder of `count` generated JPEGs in two classes, kept in the temp folder between runs. */
function generatedFolder(count: number, width: number, height: number): string {
  const dir = path.join(os.tmpdir(), `finetune-lab-bench-${count}-${width}x${height}`);
  if (fs.existsSync(path.join(dir, 'done'))) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < count; i++) {
    // A gradient with a per-image offset: real JPEG work, not a flat colour.
    for (let p = 0; p < data.length; p += 4) {
      const x = (p / 4) % width;
      const y = Math.floor(p / 4 / width);
      data[p] = (x + i * 7) & 255;
      data[p + 1] = (y + i * 13) & 255;
      data[p + 2] = (x ^ y) & 255;
      data[p + 3] = 255;
    }
    const classDir = path.join(dir, i % 2 ? 'odd' : 'even');
    fs.mkdirSync(classDir, { recursive: true });
    fs.writeFileSync(path.join(classDir, `img${i}.jpg`), jpeg.encode({ width, height, data }, 85).data);
  }
  fs.writeFileSync(path.join(dir, 'done'), '');
  return dir;
}

function chromiumRssBytes(): number {
  try {
    const out = execFileSync('ps', ['-C', 'chromium', '-o', 'rss='], { encoding: 'utf8' });
    return out.split('\n').reduce((sum, line) => sum + (Number(line.trim()) || 0), 0) * 1024;
  } catch {
    return 0;
  }
}

async function readFolder(browser: Browser, folder: string, decodeWorkers: number | null) {
  const page = await browser.newPage();
  // Long tasks are counted from the moment the pool starts reading (the panel says 'scanning'),
  // so the browser's own work of turning a picked folder into File objects is not counted.
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: { start: number; duration: number }[]; scanStart: number };
    w.longTasks = [];
    w.scanStart = Infinity;
    new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push({ start: e.startTime, duration: e.duration }))).observe({ type: 'longtask', buffered: true });
    new MutationObserver(() => {
      if (w.scanStart === Infinity && document.querySelector('[data-testid="dataset-panel"][data-status="scanning"]')) w.scanStart = performance.now();
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-status'] });
  });
  await page.goto(`http://127.0.0.1:${PORT}/?backend=wasm${decodeWorkers ? `&decodeWorkers=${decodeWorkers}` : ''}`);
  await page.getByTestId('model-ready').waitFor({ timeout: 120_000 });
  const baseline = chromiumRssBytes();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, chromiumRssBytes())), 250);
  const started = Date.now();
  await page.getByTestId('dataset-input').setInputFiles(folder);
  const facts = page.getByTestId('scan-facts');
  await facts.waitFor({ timeout: 30 * 60_000 });
  clearInterval(sampler);
  const decoded = Number(await facts.getAttribute('data-decoded'));
  const scanMs = Number(await facts.getAttribute('data-ms'));
  const longest = await page.evaluate(() => {
    const w = window as unknown as { longTasks: { start: number; duration: number }[]; scanStart: number };
    return Math.max(0, ...w.longTasks.filter((t) => t.start + t.duration >= w.scanStart).map((t) => t.duration));
  });
  await page.close();
  return { decoded, imagesPerSecond: (decoded / scanMs) * 1000, wallMs: Date.now() - started, longestTaskMs: longest, peakExtraBytes: peak - baseline };
}

export async function benchDatasetBrowser(): Promise<void> {
  const server = await preview({ preview: { port: PORT, strictPort: true, host: '127.0.0.1' }, logLevel: 'silent' });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const rows: [string, string][] = [];
  const folders: [string, string][] = [];
  if (hasShared()) folders.push(['stamps6 (112 PNG)', STAMPS_DIR]);
  folders.push(['1,000 JPEG 1024×768', generatedFolder(1000, 1024, 768)]);
  try {
    for (const [label, folder] of folders) {
      for (const workers of [1, null]) {
        const r = await readFolder(browser, folder, workers);
        rows.push([`${label}, ${workers ? '1 worker' : 'default pool'}`, `${r.imagesPerSecond.toFixed(0)} images/s; longest main-thread task while reading ${r.longestTaskMs.toFixed(0)} ms`]);
      }
    }
    const big = await readFolder(browser, generatedFolder(10_000, 320, 240), null);
    rows.push([
      `10,000 JPEG 320×240, default pool`,
      `${big.imagesPerSecond.toFixed(0)} images/s; Chromium memory at peak +${(big.peakExtraBytes / 1e6).toFixed(0)} MB; longest main-thread task while reading ${big.longestTaskMs.toFixed(0)} ms`,
    ]);
    printTable(`Reading a dropped folder in Chromium (decode pool; default = cores − 1 = ${Math.max(1, os.cpus().length - 1)} here)`, rows);
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}
