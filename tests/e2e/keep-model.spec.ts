// Keeping what was trained, as a user does it: train the demo set and train it more, check that
// the photo check still sees the untouched ImageNet network, predict a photo with its heat map,
// download the exports (TF.js zip, ONNX, run), then import the model zip into a fresh page and get the same prediction.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { expect, test } from '../helpers/e2e-test';
import type { Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import type { onnx as OnnxProto } from 'onnx-proto';
import { openDemo } from '../helpers/page';
import { hasShared, PHOTOS_DIR } from '../helpers/paths';

// onnx-proto is CommonJS, which Node's ESM loader gives no named exports.
const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxProto };

const PHOTO = path.join(PHOTOS_DIR ?? '', 'chelsea.png');

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

/** Predicts PHOTO in the Try-it panel and returns its top-1 as the page shows it. */
async function predictPhoto(page: Page): Promise<{ label: string; probability: number }> {
  await page.getByTestId('predict-input').setInputFiles(PHOTO);
  const row = page.getByTestId('prediction').first();
  await expect(row).toHaveAttribute('data-status', 'done', { timeout: 5 * 60_000 });
  return { label: (await row.getAttribute('data-top1'))!, probability: Number(await row.getAttribute('data-probability')) };
}

async function download(page: Page, testId: string, saveAs: string): Promise<Uint8Array> {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 5 * 60_000 }), page.getByTestId(testId).click()]);
  await file.saveAs(saveAs);
  return new Uint8Array(fs.readFileSync(saveAs));
}

test.describe('a trained model is kept, used, exported and imported (needs ../shared)', () => {
  test.skip(!hasShared(), '../shared is not there');

  test('the demo: train, train more, photo check, predict with a heat map, export (TF.js, ONNX, PyTorch project, run), import into a fresh page, predict the same', async ({ page, browser }, testInfo) => {
    const errors = watchErrors(page);
    await openDemo(page, { backend: 'wasm', sizePx: 112, epochs: 1 });
    await page.getByTestId('train-start').click();
    const progress = page.getByTestId('training-progress');
    await expect(progress).toHaveAttribute('data-status', 'completed', { timeout: 5 * 60_000 });
    const kept = page.getByTestId('trained-model');
    await expect(kept).toHaveAttribute('data-origin', 'run');
    const firstSteps = Number(await progress.getAttribute('data-steps'));
    // The demo set's clean run raises nothing above info (it was once told to unfreeze res5 after 100%).
    await expect(page.getByTestId('diagnostics-panel')).toHaveAttribute('data-stage', 'after-training');
    const severities = await page.getByTestId('finding').evaluateAll((nodes) => nodes.map((n) => `${n.getAttribute('data-finding-id')}:${n.getAttribute('data-severity')}`));
    console.info(`findings on the clean demo run: ${severities.join(', ') || 'none'}`);
    expect(severities.filter((finding) => !finding.endsWith(':info'))).toEqual([]);

    // Train more: one more epoch of the same model; the charts go on from where they stopped.
    await page.getByTestId('train-more').click();
    await expect(progress).toHaveAttribute('data-continued', 'true');
    await expect(progress).toHaveAttribute('data-status', 'completed', { timeout: 5 * 60_000 });
    await expect(page.getByTestId('chart-epoch-accuracy')).toHaveAttribute('data-points', '2');
    const steps = Number(await progress.getAttribute('data-steps'));
    expect(steps).toBe(2 * firstSteps);
    await expect(kept).toHaveAttribute('data-epochs', '2');

    // The run trained its own copy: the photo check still gets the pretrained network's answer
    // (Egyptian cat at 95.9%, the figure of the photo test before any run).
    await page.getByTestId('photo-input').setInputFiles(PHOTO);
    const check = page.getByTestId('photo-check').first();
    await expect(check).toHaveAttribute('data-status', 'done', { timeout: 5 * 60_000 });
    const top = check.getByTestId('photo-ranking').locator('li').first();
    await expect(top.locator('.ranking-label')).toHaveText('Egyptian cat');
    await expect(top.locator('.ranking-value')).toHaveText('95.9%');

    // Predict, with the heat map on (the default), then off and on again without predicting.
    const before = await predictPhoto(page);
    const row = page.getByTestId('prediction').first();
    await expect(row.getByTestId('heatmap')).toBeVisible();
    await page.getByTestId('heatmap-toggle').uncheck();
    await expect(row.getByTestId('heatmap')).toHaveCount(0);
    await page.getByTestId('heatmap-toggle').check();
    await expect(row.getByTestId('heatmap')).toBeVisible();
    await page.screenshot({ path: testInfo.outputPath('kept-model.png'), fullPage: true });
    const timing = (await row.locator('.muted').last().textContent()) ?? '';
    testInfo.annotations.push({ type: 'predict (wasm, 112 px)', description: timing });

    // A batch of two gives a table and a CSV of path, top-1, probability, top-3.
    await page.getByTestId('predict-input').setInputFiles([PHOTO, path.join(PHOTOS_DIR, 'rocket.jpg')]);
    const batch = page.getByTestId('prediction-batch').first();
    await expect(batch.locator('[data-testid="prediction"][data-status="done"]')).toHaveCount(2, { timeout: 5 * 60_000 });
    await expect(batch.getByTestId('prediction-table')).toBeVisible();
    const csv = new TextDecoder().decode(await download(page, 'predictions-csv', testInfo.outputPath('predictions.csv'))).trim().split(/\r?\n/);
    expect(csv[0]).toBe('path,top1,probability,top3');
    expect(csv.slice(1).map((line) => line.split(',')[0])).toEqual(['chelsea.png', 'rocket.jpg']);
    expect(csv[1]!.split(',')[1]).toBe(before.label);

    // The exports, as downloads.
    const exportStarted = Date.now();
    const modelZip = await download(page, 'export-tfjs', testInfo.outputPath('model.zip'));
    const exportMs = Date.now() - exportStarted;
    const files = unzipSync(modelZip);
    expect(Object.keys(files).filter((name) => !name.endsWith('.bin')).sort()).toEqual(['labels.json', 'model.json', 'preprocessing.json', 'run.json']);
    expect(JSON.parse(new TextDecoder().decode(files['preprocessing.json'])).spec).toMatchObject({ sizePx: 112, normalization: 'caffe' });
    // The ONNX file, written in the page's worker: one graph with the classes and the preprocessing.
    const onnxFile = onnx.ModelProto.decode(await download(page, 'export-onnx', testInfo.outputPath('model.onnx')));
    const metadata = Object.fromEntries(onnxFile.metadataProps.map((p) => [p.key, p.value]));
    expect(JSON.parse(metadata.labels!)).toEqual(JSON.parse(new TextDecoder().decode(files['labels.json'])));
    expect(JSON.parse(metadata.preprocessing!).spec).toMatchObject({ sizePx: 112, normalization: 'caffe' });
    expect(onnxFile.graph?.input?.[0]?.name).toBe('input');
    await expect(page.getByTestId('export-status-onnx')).toHaveAttribute('data-status', 'done');
    // The PyTorch project: the same model files, the run, the parity images and the scripts.
    const project = unzipSync(await download(page, 'export-pytorch', testInfo.outputPath('pytorch.zip')));
    expect(Object.keys(project).filter((name) => !name.endsWith('.bin')).sort()).toEqual(['README.md', 'labels.json', 'model.json', 'model.py', 'parity.json', 'preprocessing.json', 'run.json', 'train.py']);
    const parity = JSON.parse(new TextDecoder().decode(project['parity.json'])) as { sizePx: number; images: { path: string; probabilities: number[] }[] };
    expect(parity.sizePx).toBe(112);
    expect(parity.images.length).toBeGreaterThan(0);
    expect(parity.images[0]!.probabilities).toHaveLength(JSON.parse(new TextDecoder().decode(files['labels.json'])).length);
    const runZip = unzipSync(await download(page, 'export-run', testInfo.outputPath('run.zip')));
    const run = JSON.parse(new TextDecoder().decode(runZip['run.json'])) as { runs: unknown[]; steps: unknown[]; epochs: unknown[]; dataset: { files: { train: unknown[] } } };
    expect(run.runs).toHaveLength(2);
    expect(run.steps).toHaveLength(steps);
    expect(run.epochs).toHaveLength(2);
    expect(run.dataset.files.train.length).toBeGreaterThan(0);
    expect(new TextDecoder().decode(runZip['metrics.csv']).trim().split('\n')).toHaveLength(3);
    const note = `model zip ${(modelZip.byteLength / 1e6).toFixed(1)} MB, click to saved download ${exportMs} ms; ${timing}`;
    testInfo.annotations.push({ type: 'export (wasm)', description: note });
    console.info(`keep-model e2e: ${note}`);
    expect(errors).toEqual([]);

    // A fresh page knows nothing of the run: the zip brings the model back.
    const fresh = await browser.newPage();
    const freshErrors = watchErrors(fresh);
    await fresh.goto('/?backend=wasm');
    await expect(fresh.getByTestId('model-ready')).toBeVisible({ timeout: 8 * 60_000 });
    await fresh.getByTestId('import-model-input').setInputFiles(testInfo.outputPath('model.zip'));
    await expect(fresh.getByTestId('trained-model')).toHaveAttribute('data-origin', 'imported', { timeout: 5 * 60_000 });
    const after = await predictPhoto(fresh);
    expect(after.label).toBe(before.label);
    expect(Math.abs(after.probability - before.probability)).toBeLessThanOrEqual(1e-4);
    expect(freshErrors).toEqual([]);
    await fresh.close();
  });
});
