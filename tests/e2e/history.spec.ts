// The run history in Chromium: a run is saved as it trains and is still listed after a reload,
// with its charts, its findings and the model kept with it; two runs overlaid on one chart each,
// their differing settings marked; a full storage quota is told to the user while the run goes on.

import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '../helpers/e2e-test';
import type { Page } from '@playwright/test';
import { openDemo } from '../helpers/page';
import { hasShared, STAMPS_DIR } from '../helpers/paths';

function watch(page: Page) {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

async function train(page: Page) {
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('training-progress')).toHaveAttribute('data-status', 'completed', { timeout: 5 * 60_000 });
  await expect(page.getByTestId('diagnostics-panel')).toHaveAttribute('data-stage', 'after-training');
}

test('a run is kept across a reload, opened as it was, and compared with another', async ({ page }, testInfo) => {
  const errors = watch(page);
  await openDemo(page, { backend: 'wasm', sizePx: 64, epochs: 2 });
  await train(page);
  const history = page.getByTestId('run-history');
  const items = history.getByTestId('run-item');
  await expect(items).toHaveCount(1);
  await expect(items.first()).toHaveAttribute('data-status', 'completed');
  await expect(items.first()).toHaveAttribute('data-epochs', '2');
  await expect(items.first()).toHaveAttribute('data-current', 'true');
  const steps = await page.getByTestId('training-progress').getAttribute('data-steps');
  await expect(history.getByTestId('storage-estimate')).toContainText('used');
  const runOnly = Number(await history.getByTestId('storage-estimate').getAttribute('data-used-bytes'));
  const saveMs = await history.getByTestId('last-save').getAttribute('data-ms');
  // The trained model kept with its run (a 94 MB TF.js zip in IndexedDB).
  const keepStarted = Date.now();
  await page.getByTestId('keep-in-history').click();
  await expect(page.getByTestId('keep-status')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const keepMs = Date.now() - keepStarted;
  await expect(items.first()).toHaveAttribute('data-model', 'kept');
  const withModel = Number(await history.getByTestId('storage-estimate').getAttribute('data-used-bytes'));
  console.info(`run history: ${runOnly} bytes used with one 2-epoch demo run, ${withModel} with its model kept; last save of the run ${saveMs} ms; keeping the model ${keepMs} ms`);

  await page.reload();
  await expect(history).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await expect(items).toHaveCount(1);
  await expect(items.first()).toHaveAttribute('data-epochs', '2');
  await expect(items.first()).not.toHaveAttribute('data-current', 'true');
  // Opened: its charts as they were, and its findings.
  await items.first().getByTestId('open-run').click();
  const stored = page.getByTestId('stored-run');
  await expect(stored.getByTestId('chart-steps')).toHaveAttribute('data-points', steps!);
  await expect(stored.getByTestId('chart-epoch-loss')).toHaveAttribute('data-points', '2');
  await expect(stored.getByTestId('confusion-matrix')).toBeVisible();
  await expect(stored.getByTestId('stored-finding').first()).toBeVisible();
  // Its model back, as an import, to predict with or train more.
  await items.first().getByTestId('load-stored-model').click();
  await expect(page.getByTestId('trained-model')).toHaveAttribute('data-origin', 'imported', { timeout: 120_000 });
  await expect(page.getByTestId('trained-model')).toHaveAttribute('data-classes', '3');
  // Renamed, and the name stays.
  await items.first().getByTestId('rename-run').click();
  await items.first().getByTestId('run-name-input').fill('demo at 64 px');
  await items.first().getByTestId('run-name-save').click();
  await expect(items.first().getByTestId('run-name')).toHaveText('demo at 64 px');

  // A second run with another learning rate, then both compared.
  await page.getByTestId('model-ready').waitFor({ timeout: 8 * 60_000 });
  await page.getByTestId('demo-button').click();
  await expect(page.getByTestId('dataset-panel')).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await page.getByTestId('image-size').selectOption('64');
  await page.getByTestId('epochs').fill('2');
  await page.getByTestId('learning-rate').fill('0.003');
  await train(page);
  await expect(items).toHaveCount(2);
  await expect(items.first()).toHaveAttribute('data-current', 'true');
  // Checked once the run's records are read from the history.
  for (const item of [items.nth(0), items.nth(1)]) {
    await item.getByTestId('compare-run').click();
    await expect(item.getByTestId('compare-run')).toBeChecked();
  }
  const compare = page.getByTestId('compare-runs');
  for (const chart of ['compare-steps', 'compare-epoch-loss', 'compare-accuracy']) {
    await expect(compare.getByTestId(chart)).toHaveAttribute('data-lines', '2');
  }
  const differing = compare.locator('[data-testid="compare-settings"] tr[data-differs="true"]');
  await expect(differing.filter({ hasText: /learning rate/i }).first()).toBeVisible();
  await expect(compare).toContainText('demo at 64 px');
  await page.screenshot({ path: testInfo.outputPath('history.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('a run cut off by a reload resumes from its last epoch on the same folder and ends with every epoch', async ({ page }) => {
  const errors = watch(page);
  await openDemo(page, { backend: 'wasm', sizePx: 64, epochs: 8 });
  // Augmented images are not cached, so each epoch takes a forward pass: time to pause mid-run.
  await page.getByTestId('augment').check();
  await page.getByTestId('train-start').click();
  const progress = page.getByTestId('training-progress');
  const item = page.getByTestId('run-item').first();
  // Paused after two epochs or more, with its state saved at the last epoch's end; then the reload cuts it off.
  await expect.poll(async () => Number(await item.getAttribute('data-resumable')), { timeout: 5 * 60_000 }).toBeGreaterThanOrEqual(2);
  await page.getByTestId('train-pause').click();
  await expect(progress).toHaveAttribute('data-status', 'paused');
  await expect.poll(async () => (await item.getAttribute('data-resumable')) === (await item.getAttribute('data-epochs'))).toBe(true);
  await page.reload();
  await expect(item).toHaveAttribute('data-status', 'running', { timeout: 60_000 });
  await expect(item.getByTestId('resume-run')).toBeDisabled();
  await expect(item.getByTestId('resume-hint')).toContainText('Open demo-shapes again');
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 8 * 60_000 });
  await page.getByTestId('demo-button').click();
  await expect(page.getByTestId('dataset-panel')).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  const resumeStarted = Date.now();
  await item.getByTestId('resume-run').click();
  await expect.poll(async () => Number(await progress.getAttribute('data-run-steps')), { timeout: 5 * 60_000 }).toBeGreaterThanOrEqual(1);
  console.info(`resume: ${Date.now() - resumeStarted} ms from the click to the first step after epoch ${await item.getAttribute('data-resumable')}`);
  await expect(progress).toHaveAttribute('data-status', 'completed', { timeout: 5 * 60_000 });
  // Every epoch is on the charts and in the stored run: those before the reload and those after.
  await expect(page.getByTestId('chart-epoch-loss')).toHaveAttribute('data-points', '8');
  // Each epoch's steps once: the steps of the epoch cut short were trained again, not added twice.
  const steps = Number(await progress.getAttribute('data-steps'));
  expect(steps % 8).toBe(0);
  await expect(page.getByTestId('chart-steps')).toHaveAttribute('data-points', String(steps));
  await expect(item).toHaveAttribute('data-status', 'completed');
  await expect(item).toHaveAttribute('data-epochs', '8');
  await expect(item).not.toHaveAttribute('data-resumable');
  expect(errors).toEqual([]);
});

test('a run on a folder opened with the folder picker resumes after a reload by reading that folder again', async ({ page }) => {
  test.skip(!hasShared(), '../shared is not there');
  const errors = watch(page);
  // The folder picker, stood in for by a folder of the origin-private file system: a real
  // FileSystemDirectoryHandle, kept in IndexedDB and read again as a picked one is.
  const classes = ['clothes', 'space', 'tools'];
  const files = classes.flatMap((c) =>
    fs.readdirSync(path.join(STAMPS_DIR, c)).sort().slice(0, 6).map((name) => ({ path: `${c}/${name}`, base64: fs.readFileSync(path.join(STAMPS_DIR, c, name)).toString('base64') })),
  );
  await page.addInitScript(() => {
    (window as unknown as { showDirectoryPicker: () => Promise<unknown> }).showDirectoryPicker = async () => (await navigator.storage.getDirectory()).getDirectoryHandle('stamps-mini');
  });
  await page.goto('/?backend=wasm');
  await page.evaluate(async (list) => {
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('stamps-mini', { create: true });
    for (const file of list) {
      const [dir, name] = file.path.split('/') as [string, string];
      const handle = await (await root.getDirectoryHandle(dir, { create: true })).getFileHandle(name, { create: true });
      const writable = await handle.createWritable();
      await writable.write(Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0)));
      await writable.close();
    }
  }, files);
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 8 * 60_000 });
  await page.getByTestId('pick-folder').click();
  await expect(page.getByTestId('dataset-panel')).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await page.getByTestId('image-size').selectOption('64');
  await page.getByTestId('epochs').fill('5');
  await page.getByTestId('augment').check();
  await page.getByTestId('train-start').click();
  const progress = page.getByTestId('training-progress');
  const item = page.getByTestId('run-item').first();
  await expect.poll(async () => Number(await item.getAttribute('data-resumable')), { timeout: 5 * 60_000 }).toBeGreaterThanOrEqual(1);
  await page.getByTestId('train-pause').click();
  await expect(progress).toHaveAttribute('data-status', 'paused');
  await expect.poll(async () => (await item.getAttribute('data-resumable')) === (await item.getAttribute('data-epochs'))).toBe(true);
  await page.reload();
  // No folder open: the kept handle reads it again on the click.
  await expect(item.getByTestId('resume-run')).toBeEnabled({ timeout: 60_000 });
  await expect(item.getByTestId('resume-hint')).toContainText('It reads stamps-mini again');
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 8 * 60_000 });
  await item.getByTestId('resume-run').click();
  await expect(page.getByTestId('dataset-summary')).toContainText('18 images', { timeout: 60_000 });
  await expect(progress).toHaveAttribute('data-status', 'completed', { timeout: 5 * 60_000 });
  await expect(page.getByTestId('chart-epoch-loss')).toHaveAttribute('data-points', '5');
  await expect(item).toHaveAttribute('data-status', 'completed');
  expect(errors).toEqual([]);
});

test('a full storage quota is told, and the run goes on to its end', async ({ page }) => {
  const errors = watch(page);
  await page.goto('/?backend=wasm&historyQuotaBytes=4000');
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 8 * 60_000 });
  await page.getByTestId('demo-button').click();
  await expect(page.getByTestId('dataset-panel')).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await page.getByTestId('image-size').selectOption('64');
  await page.getByTestId('epochs').fill('2');
  await train(page);
  await expect(page.getByTestId('history-message')).toContainText("was not saved: the browser's storage for this page is full");
  await expect(page.getByTestId('history-message')).toContainText('the run goes on');
  await expect(page.getByTestId('training-progress')).toHaveAttribute('data-status', 'completed');
  expect(errors).toEqual([]);
});
