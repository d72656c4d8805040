// The run carried out of the browser: stamps6 is dropped and trained in Node through the training
// worker's own session (head and res5c, 64 px, one epoch), exported as a PyTorch project; Debian's
// PyTorch then checks that it reproduces the lab's outputs (`train.py --check`), continues the run
// on two processes with DistributedDataParallel (torchrun, gloo), and exports a TF.js zip that the
// lab imports and predicts with, and an ONNX file.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TRAINING_CONFIG } from '../../src/core/training-config';
import { preprocessImage } from '../../src/data/preprocess';
import { initBackend } from '../../src/ml/backend';
import { importClassifierZip } from '../../src/ml/classifier-zip';
import { loadPretrainedNetwork } from '../../src/ml/pretrained-network';
import { createDatasetSession, type DatasetCommand } from '../../src/workers/dataset-session';
import type { ExportedFile, RunSettings, WorkerEvent } from '../../src/workers/protocol';
import { createTrainingSession } from '../../src/workers/training-session';
import { createStandInPool, decodeInNode } from '../helpers/node-decode-pool';
import { decodeImageFile } from '../helpers/node-images';
import { fsModelSource } from '../helpers/node-model';
import { hasShared, requireModel, STAMPS_DIR } from '../helpers/paths';

const SIZE_PX = 64;
const PYTHON = '/usr/bin/python3';

/** Debian's PyTorch is needed; without it the test says so, except in CI, where it is an error. */
function hasTorch(): boolean {
  const present = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0;
  if (!present && process.env.CI === 'true') throw new Error("CI needs Debian's python3-torch and python3-torchvision: apt-get install python3-torch python3-torchvision.");
  if (!present) console.warn('python3-torch is not installed: the PyTorch project test is skipped (apt-get install python3-torch python3-torchvision)');
  return present;
}

type DroppedFiles = Extract<DatasetCommand, { type: 'dataset/open' }>['files'];

/** stamps6 as a drop of its folder: every class folder and image, with the folder's name first. */
function dropStamps(): DroppedFiles {
  const root = path.basename(STAMPS_DIR);
  const entries: DroppedFiles = [{ path: root, file: null }];
  for (const cls of fs.readdirSync(STAMPS_DIR).sort()) {
    if (!fs.statSync(path.join(STAMPS_DIR, cls)).isDirectory()) continue;
    entries.push({ path: `${root}/${cls}`, file: null });
    for (const name of fs.readdirSync(path.join(STAMPS_DIR, cls)).sort()) {
      entries.push({ path: `${root}/${cls}/${name}`, file: new File([fs.readFileSync(path.join(STAMPS_DIR, cls, name))], name, { type: 'image/png' }) });
    }
  }
  return entries;
}

function run(command: string, args: string[], cwd: string) {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' }, timeout: 10 * 60_000 });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}`, ms: performance.now() - started };
}

describe.skipIf(!hasShared() || !hasTorch())('the run as a PyTorch project (needs ../shared and python3-torch)', () => {
  let project: string;
  let out: string;
  let exported: ExportedFile;
  let classNames: string[];

  beforeAll(async () => {
    await initBackend({ force: 'wasm' });
    const pretrained = await loadPretrainedNetwork(fsModelSource(requireModel()));
    const events: WorkerEvent[] = [];
    const pool = createStandInPool();
    const datasets = createDatasetSession({ emit: (e) => events.push(e), pool: () => pool });
    await datasets.handle({ type: 'dataset/open', files: dropStamps(), split: { validationFraction: 0.2, seed: 1 } });
    classNames = datasets.current()!.index.classNames;
    const session = createTrainingSession({
      emit: (e) => events.push(e),
      pretrained: () => pretrained,
      dataset: () => datasets.current(),
      pool: () => pool,
      decode: decodeInNode,
      backend: () => ({ name: 'wasm', skipped: [], wasmThreads: 1, crossOriginIsolated: false }),
    });
    const settings: RunSettings = {
      config: { ...DEFAULT_TRAINING_CONFIG, epochs: 1, batchSize: 16, freezeDepth: 1, warmupSteps: 0, learningRate: 3e-3 },
      sizePx: SIZE_PX,
      resize: 'stretch',
      augment: false,
      normalization: 'caffe',
      validationNormalization: null,
    };
    await session.handle({ type: 'train/start', settings, continue: false });
    expect(events.map((e) => e.type)).toContain('trained/ready');
    await session.handle({ type: 'trained/export', format: 'pytorch' });
    const done = events.find((e): e is Extract<WorkerEvent, { type: 'trained/exported' }> => e.type === 'trained/exported');
    const failed = events.find((e) => e.type === 'trained/exportFailed');
    expect(failed).toBeUndefined();
    exported = done!.file;
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'pytorch-project-'));
    out = path.join(project, 'out');
    for (const [name, bytes] of Object.entries(unzipSync(exported.bytes))) fs.writeFileSync(path.join(project, name), bytes);
  }, 600_000);

  afterAll(() => {
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  it('holds the model, the run, the parity images and the scripts', () => {
    expect(exported.fileName).toBe('stamps6-pytorch.zip');
    const names = fs.readdirSync(project).filter((n) => !n.endsWith('.bin')).sort();
    expect(names).toEqual(['README.md', 'labels.json', 'model.json', 'model.py', 'parity.json', 'preprocessing.json', 'run.json', 'train.py']);
    const parity = JSON.parse(fs.readFileSync(path.join(project, 'parity.json'), 'utf8'));
    expect(parity.images.length).toBe(8);
    expect(new Set(parity.images.map((image: { label: number }) => image.label)).size).toBe(classNames.length);
    expect(fs.statSync(path.join(project, 'parity-inputs.bin')).size).toBe(8 * SIZE_PX * SIZE_PX * 3 * 4);
    console.info(`PyTorch project: ${(exported.bytes.byteLength / 1e6).toFixed(1)} MB zip in ${exported.ms.toFixed(0)} ms`);
  });

  it('train.py --check reproduces the lab’s inputs and outputs from the image files', () => {
    const check = run(PYTHON, ['train.py', '--check', '--data', STAMPS_DIR], project);
    console.info(`train.py --check (${(check.ms / 1000).toFixed(1)} s):\n${check.output.trim()}`);
    expect(check.status, check.output).toBe(0);
  }, 300_000);

  it('train.py --check fails, and says so, when its outputs differ from the browser’s', () => {
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'pytorch-broken-'));
    try {
      fs.cpSync(project, broken, { recursive: true });
      const parityPath = path.join(broken, 'parity.json');
      const parity = JSON.parse(fs.readFileSync(parityPath, 'utf8'));
      parity.images[0].probabilities[0] += 0.01;
      fs.writeFileSync(parityPath, JSON.stringify(parity));
      const check = run(PYTHON, ['train.py', '--check'], broken);
      expect(check.status, check.output).not.toBe(0);
      expect(check.output).toMatch(/parity/i);
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  }, 300_000);

  it('continues on two processes with torchrun and DDP, and its TF.js zip goes back into the lab', async () => {
    // The README's command, as written.
    const torchrun = run('torchrun', ['--standalone', '--nproc_per_node=2', '--redirects', '1', '--tee', '1', 'train.py', '--data', STAMPS_DIR, '--epochs', '1', '--size', String(SIZE_PX), '--out', out], project);
    console.info(`torchrun, 2 processes (${(torchrun.ms / 1000).toFixed(1)} s):\n${torchrun.output.trim().split('\n').slice(-25).join('\n')}`);
    expect(torchrun.status, torchrun.output).toBe(0);
    const written = fs.readdirSync(out);
    expect(written).toContain('checkpoint.pt');
    expect(written).toContain('metrics.csv');
    expect(written).toContain('model.onnx');
    const metrics = fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(metrics.length).toBe(2);
    if (spawnSync(PYTHON, ['-c', 'import onnx']).status === 0) {
      const checked = spawnSync(PYTHON, ['-c', 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', path.join(out, 'model.onnx')], { encoding: 'utf8' });
      expect(checked.status, checked.stderr).toBe(0);
    }
    const zipName = written.find((n) => n.endsWith('-tfjs-model.zip'));
    expect(zipName).toBeDefined();

    const imported = await importClassifierZip(new Uint8Array(fs.readFileSync(path.join(out, zipName!))), zipName!);
    expect(imported.model.classNames).toEqual(classNames);
    expect(imported.model.spec.sizePx).toBe(SIZE_PX);
    const first = fs.readdirSync(path.join(STAMPS_DIR, classNames[0]!)).sort()[0]!;
    const probabilities = await imported.model.predict(preprocessImage(decodeImageFile(path.join(STAMPS_DIR, classNames[0]!, first)), imported.model.spec), SIZE_PX);
    expect(probabilities).toHaveLength(classNames.length);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    imported.model.dispose();
  }, 600_000);
});
