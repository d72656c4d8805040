// Loading the model in the page: from files the user picks, and a clear message naming the file
// when the served weights are truncated.

import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '../helpers/e2e-test';
import { openDemo } from '../helpers/page';
import { MODEL_DIR } from '../helpers/paths';

test('loads the model from picked files (model.json + shards + labels.json)', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 120_000 });
  const manifest = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  const files = ['model.json', 'labels.json', ...manifest.weightsManifest[0]!.paths].map((name) => path.join(MODEL_DIR, name));
  await page.getByTestId('model-files-input').setInputFiles(files);
  await expect(page.getByTestId('model-ready')).toContainText('from your files', { timeout: 120_000 });
});

test('names the shard when the served weights are truncated', async ({ page }) => {
  const shard = 'group1-shard3of25.bin';
  await page.route(`**/models/resnet50/${shard}`, async (route) => {
    const bytes = fs.readFileSync(path.join(MODEL_DIR, shard));
    await route.fulfill({ status: 200, contentType: 'application/octet-stream', body: bytes.subarray(0, 1000) });
  });
  const consoleErrors: string[] = [];
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  await page.goto('/?backend=wasm');
  const error = page.getByTestId('model-error');
  await expect(error).toBeVisible({ timeout: 120_000 });
  await expect(error).toContainText(shard);
  await expect(error).toContainText('truncated');
  expect(consoleErrors).toEqual([]);
});

test('says so when model.json is not there', async ({ page }) => {
  await page.route('**/models/resnet50/model.json', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.goto('/?backend=wasm');
  const error = page.getByTestId('model-error');
  await expect(error).toBeVisible({ timeout: 120_000 });
  await expect(error).toContainText('404');
  await expect(error).toContainText('model.json');
});

test('chooses the backend automatically, passing over software GPUs, and says why', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 120_000 });
  const badge = page.getByTestId('backend-badge');
  const software = await page.evaluate(async () => {
    const adapter = await (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean } } | null> } }).gpu?.requestAdapter();
    return adapter?.info?.isFallbackAdapter ?? true;
  });
  if (software) {
    // No real GPU (as on CI): SwiftShader runs ResNet50 ~25× slower than WASM, so WASM wins.
    await expect(badge).toHaveAttribute('data-backend', 'wasm');
    await expect(badge).toHaveAttribute('title', /WebGPU skipped: only a software adapter/);
  } else {
    await expect(badge).toHaveAttribute('data-backend', 'webgpu');
  }
});

test('a crashed training worker is reported, and the page starts a new one without a reload', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 120_000 });
  const training = page.workers().find((w) => w.url().includes('training.worker'))!;
  // An uncaught error inside the worker: what a bug or an out-of-memory abort looks like to the page.
  await training.evaluate(() => setTimeout(() => {
    throw new Error('simulated crash');
  }));
  const banner = page.getByRole('alert').filter({ hasText: 'The training worker crashed' });
  await expect(banner).toContainText('simulated crash');
  await banner.getByRole('button', { name: 'Start it again' }).click();
  await expect(banner).toBeHidden();
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 120_000 });
});

test('a lost GPU device is reported, and the lab goes on on WASM with its dataset and the failed run kept', async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The worker's GPUDevice, kept where the test can reach it: destroying it loses the device the
  // way a driver reset or a GPU process crash does (device.lost resolves, every read rejects).
  await page.route(/training\.worker-[^/]+\.js$/, async (route) => {
    const response = await route.fetch();
    const keepDevices =
      'const labRequestDevice = GPUAdapter.prototype.requestDevice;' +
      'GPUAdapter.prototype.requestDevice = async function (...args) {' +
      '  const device = await labRequestDevice.apply(this, args);' +
      '  self.labTestDevices = [...(self.labTestDevices ?? []), device];' +
      '  return device;' +
      '};\n';
    await route.fulfill({ response, body: keepDevices + (await response.text()) });
  });
  await openDemo(page, { backend: 'webgpu', sizePx: 64, epochs: 2 });
  await page.getByTestId('train-start').click();
  const progress = page.getByTestId('training-progress');
  await expect(progress).toHaveAttribute('data-status', 'running');
  // A step trains on WebGPU first: the suite's smoke test of training there (a few minutes on
  // SwiftShader for the whole demo run, so no other test trains on it).
  await expect(page.getByTestId('chart-steps')).not.toHaveAttribute('data-points', '0', { timeout: 5 * 60_000 });
  await expect(progress).toHaveAttribute('data-status', 'running');

  const training = page.workers().find((w) => w.url().includes('training.worker'))!;
  await training.evaluate(() => (self as unknown as { labTestDevices: { destroy(): void }[] }).labTestDevices.forEach((device) => device.destroy()));
  const banner = page.getByTestId('backend-lost');
  await expect(banner).toContainText('The GPU device was lost (Device was destroyed.)');
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', 'lost');
  await expect(progress).toHaveAttribute('data-status', 'failed');
  await expect(page.getByTestId('training-message')).toContainText('The GPU device was lost');
  await page.screenshot({ path: testInfo.outputPath('gpu-lost.png'), fullPage: true });

  await page.getByTestId('continue-on-wasm').click();
  await expect(banner).toBeHidden();
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', 'wasm', { timeout: 120_000 });
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 120_000 });
  // The dataset is read again from the files the page kept, and the failed run stays on show.
  await expect(page.getByTestId('dataset-panel')).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await expect(progress).toHaveAttribute('data-status', 'failed');
  await page.getByTestId('train-start').click();
  await expect(progress).toHaveAttribute('data-status', 'completed', { timeout: 5 * 60_000 });
  expect(errors).toEqual([]);
});
