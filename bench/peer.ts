// `npm run bench -- peer`: the lab's fine-tuning steps next to PyTorch on the same machine, same
// scenarios (batch, size, trainable set, BatchNorm in inference mode, Adam), one table. PyTorch is
// Debian's python3-torch and python3-torchvision, run with /usr/bin/python3 on every logical core, as
// the lab's Chromium worker is; it is only ever the yardstick, never part of the lab. This
// machine is shared and its speed drifts over minutes, so PyTorch runs before and after the lab
// and the faster of its two figures counts (the ratio errs against the lab).

import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../src/ml/backend';
import { loadPretrainedResNet50 } from '../src/ml/model-loader';
import { segmentResNet50 } from '../src/ml/segments';
import { fsModelSource } from '../tests/helpers/node-model';
import { PROJECT_ROOT, requireModel } from '../tests/helpers/paths';
import { runInChromium } from './engine-browser';
import { PEER_SCENARIOS, runScenario, type Scenario } from './engine-scenarios';
import { printTable } from './shared';
import { wasmMultiplyAddPeak } from './simd-peak';

const PYTHON = process.env.PEER_PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.join(PROJECT_ROOT, 'bench/peer/pytorch_steps.py');
const CONV_PEAK_SCRIPT = path.join(PROJECT_ROOT, 'bench/peer/pytorch_conv_peak.py');
const LAB_STEPS_PER_EPOCH = 6;
const PYTORCH_TIMED_STEPS = 5;

const key = (s: Scenario) => `${s.label}, batch ${s.batchSize}`;

/** ms per step by scenario, or the reason PyTorch could not run. */
function runPytorch(scenarios: Scenario[], threads: number): Map<string, number> | string {
  const check = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (check.error || check.status !== 0) {
    return `${PYTHON} cannot import torch and torchvision (apt-get install python3-torch python3-torchvision)`;
  }
  const run = spawnSync(PYTHON, [SCRIPT, JSON.stringify(scenarios), String(threads), String(PYTORCH_TIMED_STEPS)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (run.status !== 0) return `the PyTorch script failed: ${run.stderr.trim().split('\n').pop()}`;
  const out = new Map<string, number>();
  run.stdout
    .trim()
    .split('\n')
    .forEach((line, i) => out.set(key(scenarios[i]!), (JSON.parse(line) as { msPerStep: number }).msPerStep));
  return out;
}

/** Per scenario, the faster of two PyTorch runs (or the first run's reason it could not run). */
function fasterOf(a: Map<string, number> | string, b: Map<string, number> | string): Map<string, number> | string {
  if (typeof a === 'string') return a;
  if (typeof b === 'string') return b;
  return new Map([...a].map(([k, ms]) => [k, Math.min(ms, b.get(k) ?? ms)]));
}

/**
 * WASM's multiply-add ceiling here next to PyTorch's convolutions: how far below PyTorch a
 * convolution-bound step stays even with WASM kernels at their best.
 */
async function printCeilings(threads: number): Promise<void> {
  const wasm = await wasmMultiplyAddPeak(threads);
  const run = spawnSync(PYTHON, [CONV_PEAK_SCRIPT, String(threads)], { encoding: 'utf8' });
  const rows: [string, string][] = [[`WASM SIMD multiply-add loop (no memory traffic)`, `${wasm.relaxed.toFixed(0)} GMAC/s relaxed, ${wasm.mulAdd.toFixed(0)} mul + add`]];
  if (run.status === 0) {
    const { shapes } = JSON.parse(run.stdout) as { shapes: Record<string, number> };
    for (const [name, rate] of Object.entries(shapes)) rows.push([`PyTorch convolution ${name}`, `${rate.toFixed(0)} GMAC/s (${(rate / Math.max(wasm.relaxed, wasm.mulAdd)).toFixed(1)}× WASM's ceiling)`]);
  } else {
    rows.push(['PyTorch convolutions', 'skipped: the PyTorch script could not run']);
  }
  printTable(`Multiply-add ceilings on ${threads} threads: no WASM kernel beats the first line`, rows);
}

export async function benchPeer(): Promise<void> {
  // Every logical core, as the lab's page uses.
  const threads = os.availableParallelism();
  const pytorchBefore = runPytorch(PEER_SCENARIOS, threads);
  await initBackend({ force: 'wasm' });
  const { model } = await loadPretrainedResNet50(fsModelSource(requireModel()));
  const net = segmentResNet50(model);
  const node = new Map<string, number>();
  for (const scenario of PEER_SCENARIOS) node.set(key(scenario), (await runScenario(net, scenario, LAB_STEPS_PER_EPOCH)).msPerStep);
  model.dispose();

  const last = PEER_SCENARIOS.find((s) => s.freezeDepth === 16 && s.sizePx === 224)!;
  const [browser] = await runInChromium([{ backend: 'wasm', scenarios: PEER_SCENARIOS, steps: LAB_STEPS_PER_EPOCH, profile: last }]);
  const backendLine = browser!.lines[0]?.[1] ?? 'wasm';
  const chromium = new Map(browser!.results.map((r) => [key(r), r.msPerStep]));
  const pytorchAfter = runPytorch(PEER_SCENARIOS, threads);
  const pytorch = fasterOf(pytorchBefore, pytorchAfter);

  const ms = (value: number | undefined) => (value === undefined ? '–' : `${value.toFixed(0)} ms`);
  const ratio = (lab: number | undefined, peer: number | undefined) => (lab === undefined || peer === undefined ? '–' : `${(lab / peer).toFixed(1)}×`);
  const header: [string, string] = ['scenario', `lab Node wasm (1 thread) | lab Chromium ${backendLine} | PyTorch CPU (${threads} threads; before, after the lab) | Chromium / PyTorch`];
  const rows = PEER_SCENARIOS.map((s): [string, string] => {
    const peer = typeof pytorch === 'string' ? undefined : pytorch.get(key(s));
    const both = [pytorchBefore, pytorchAfter].map((run) => (typeof run === 'string' ? '–' : ms(run.get(key(s))))).join(', ');
    return [key(s), [ms(node.get(key(s))), ms(chromium.get(key(s))), `${ms(peer)} (${both})`, ratio(chromium.get(key(s)), peer)].join(' | ')];
  });
  printTable('The lab next to PyTorch, ms per step (median)', [header, ...rows]);
  if (typeof pytorch === 'string') process.stdout.write(`  PyTorch skipped: ${pytorch}\n`);
  const kernelsMs = browser!.kernels.reduce((sum, k) => sum + k.msPerStep, 0);
  printTable(`Where the lab's time goes, ${key(last)}, Chromium (kernels, ms per timed step of a profiled run)`, [
    ...browser!.kernels.slice(0, 10).map((k): [string, string] => [k.kernel, `${k.msPerStep.toFixed(0)} ms (${(100 * k.share).toFixed(0)}%)`]),
    ['all kernels', `${kernelsMs.toFixed(0)} ms of the profiled run's ${ms(browser!.profiledMsPerStep)} per step (the rest: tfjs's engine and tape, JavaScript)`],
  ]);
  await printCeilings(threads);
  const r = typeof pytorch === 'string' ? 'n/a (PyTorch skipped)' : ratio(chromium.get(key(last)), pytorch.get(key(last)));
  process.stdout.write(`peer ratio k=16 batch 4 @224 (Chromium wasm / PyTorch): ${r}\n`);
}
