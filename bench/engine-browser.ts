// Chromium: ms per fine-tuning step in a worker, on WASM (the fastest backend on a machine without
// a GPU) and on WebGPU (SwiftShader here: only the cheapest scenarios, at a small size).

import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { scenarios, type KernelShare, type Scenario, type ScenarioResult } from './engine-scenarios';
import { printTable } from './shared';

const PORT = 4177;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', '--enable-unsafe-webgpu'];

export interface BrowserRun {
  backend: string;
  scenarios: Scenario[];
  steps: number;
  /** wasm threads to ask for. Default: every logical core. */
  threads?: number;
  /** A scenario to profile kernel by kernel after the timed ones. */
  profile?: Scenario;
}

export interface BrowserRunResult {
  /** What the worker printed: its backend line, then a line per scenario. */
  lines: [string, string][];
  results: ScenarioResult[];
  /** The profiled scenario's kernels, largest first (empty without one). */
  kernels: KernelShare[];
  /** The profiled run's ms per step (0 without one). */
  profiledMsPerStep: number;
}

/** Runs each run's scenarios in a fresh page of one Chromium, served by Vite (cross-origin isolated). */
export async function runInChromium(runs: BrowserRun[]): Promise<BrowserRunResult[]> {
  const server = await createServer({ server: { port: PORT, strictPort: true, host: '127.0.0.1' }, logLevel: 'silent' });
  await server.listen();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const out: BrowserRunResult[] = [];
  try {
    for (const run of runs) {
      const page = await browser.newPage();
      const query = new URLSearchParams({ backend: run.backend, scenarios: JSON.stringify(run.scenarios), steps: String(run.steps) });
      if (run.threads) query.set('threads', String(run.threads));
      if (run.profile) query.set('profile', JSON.stringify(run.profile));
      await page.goto(`http://127.0.0.1:${PORT}/bench/browser/engine.html?${query}`);
      const done = page.locator('#out[data-done="true"]');
      await done.waitFor({ timeout: 30 * 60_000 });
      const text = (await done.textContent()) ?? '';
      const results = JSON.parse((await done.getAttribute('data-results')) ?? '[]') as ScenarioResult[];
      const kernels = JSON.parse((await done.getAttribute('data-kernels')) ?? '[]') as KernelShare[];
      const profiledMsPerStep = Number((await done.getAttribute('data-profiled-ms-per-step')) ?? 0);
      out.push({ lines: text.split('\n').map((line) => line.split('\t') as [string, string]), results, kernels, profiledMsPerStep });
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return out;
}

export async function benchEngineBrowser(): Promise<void> {
  const runs: BrowserRun[] = [
    { backend: 'wasm', scenarios: scenarios({ small: 112, large: 224 }), steps: 3 },
    {
      backend: 'webgpu',
      scenarios: scenarios({ small: 64, large: 64 }).filter((s, i, all) => s.freezeDepth < 16 && all.findIndex((t) => t.label === s.label) === i),
      steps: 2,
    },
  ];
  const outputs = await runInChromium(runs);
  outputs.forEach((output, i) => printTable(`Fine-tuning steps in Chromium, ${runs[i]!.backend}, ms per step (median)`, output.lines));
}
