// Chromium (Debian's), the built page: weights load time, first forward (warm-up) and ms per 224²
// forward of a real photo, on WASM and on WebGPU (SwiftShader on machines without a GPU).

import path from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { preview } from 'vite';
import { hasShared, PHOTOS_DIR } from '../tests/helpers/paths';
import { median, printTable } from './shared';

const PORT = 4175;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', '--enable-unsafe-webgpu'];
const PHOTOS = ['chelsea.png', 'coffee.png', 'motorcycle_left.png'];

async function measure(browser: Browser, backend: 'wasm' | 'webgpu', photos: string[]) {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${PORT}/?backend=${backend}`);
  const ready = page.getByTestId('model-ready');
  await ready.waitFor({ timeout: 10 * 60_000 });
  const loadMs = Number(await ready.getAttribute('data-load-ms'));
  const warmupMs = Number(await ready.getAttribute('data-warmup-ms'));
  const badge = (await page.getByTestId('backend-badge').textContent()) ?? '';
  const forwards: number[] = [];
  for (const [i, photo] of photos.entries()) {
    await page.getByTestId('photo-input').setInputFiles(path.join(PHOTOS_DIR, photo));
    const check = page.getByTestId('photo-check').first();
    await page.locator(`[data-testid="photo-check"]:nth-child(1)[data-status="done"]`).waitFor({ timeout: 10 * 60_000 });
    forwards.push(Number(await check.getByTestId('forward-ms').textContent()));
    if (i === 0 && backend === 'webgpu') break; // ~20 s an image on SwiftShader: one is enough
  }
  await page.close();
  return { badge, loadMs, warmupMs, forwardMs: median(forwards), samples: forwards.length };
}

export async function benchPretrainedBrowser(): Promise<void> {
  if (!hasShared()) {
    process.stdout.write('\n(browser benchmark skipped: ../shared photos are not here)\n');
    return;
  }
  const server = await preview({ preview: { port: PORT, strictPort: true, host: '127.0.0.1' }, logLevel: 'silent' });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const rows: [string, string][] = [];
    for (const backend of ['wasm', 'webgpu'] as const) {
      const m = await measure(browser, backend, PHOTOS);
      rows.push(
        [`${backend}: backend badge`, m.badge],
        [`${backend}: load weights (HTTP, 103 MB)`, `${m.loadMs} ms`],
        [`${backend}: first forward 224² (warm-up)`, `${m.warmupMs} ms`],
        [`${backend}: forward 224² (median of ${m.samples})`, `${m.forwardMs} ms`],
      );
    }
    printTable('Pretrained ResNet50 in Chromium (training worker)', rows);
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}
