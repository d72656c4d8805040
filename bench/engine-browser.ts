// Chromium: ms per fine-tuning step in a worker, on WASM (the fastest backend on a machine without
// a GPU) and on WebGPU (SwiftShader here: only the cheapest scenarios, at a small size).

import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { scenarios, type Scenario } from './engine-scenarios';
import { printTable } from './shared';

const PORT = 4177;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', '--enable-unsafe-webgpu'];

export async function benchEngineBrowser(): Promise<void> {
  const server = await createServer({ server: { port: PORT, strictPort: true, host: '127.0.0.1' }, logLevel: 'silent' });
  await server.listen();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const runs: { backend: string; scenarios: Scenario[]; steps: number }[] = [
    { backend: 'wasm', scenarios: scenarios({ small: 112, large: 224 }), steps: 3 },
    {
      backend: 'webgpu',
      scenarios: scenarios({ small: 64, large: 64 }).filter((s, i, all) => s.freezeDepth < 16 && all.findIndex((t) => t.label === s.label) === i),
      steps: 2,
    },
  ];
  try {
    for (const run of runs) {
      const page = await browser.newPage();
      const query = new URLSearchParams({ backend: run.backend, scenarios: JSON.stringify(run.scenarios), steps: String(run.steps) });
      await page.goto(`http://127.0.0.1:${PORT}/bench/browser/engine.html?${query}`);
      await page.locator('#out[data-done="true"]').waitFor({ timeout: 30 * 60_000 });
      const text = (await page.locator('#out').textContent()) ?? '';
      printTable(`Fine-tuning steps in Chromium, ${run.backend}, ms per step (median)`, text.split('\n').map((line) => line.split('\t') as [string, string]));
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
}
