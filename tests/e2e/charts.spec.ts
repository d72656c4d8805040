// The training charts as TensorBoard draws them: train the demo set for two epochs at 64 px on
// WASM in an 800 px wide window, then smooth, switch to a log scale, download the step CSV (every
// step), normalise the confusion matrix and walk it with the keyboard, and check nothing spills
// sideways.

import fs from 'node:fs';
import { expect, test } from '../helpers/e2e-test';
import type { Locator, Page } from '@playwright/test';
import { openDemo } from '../helpers/page';

const VIEWPORT = { width: 800, height: 1000 };

async function downloaded(page: Page, button: Locator) {
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return { name: download.suggestedFilename(), bytes: fs.readFileSync(await download.path()) };
}

test('the charts: smoothing, log scale, every step in the CSV, the confusion matrix by keyboard, nothing wider than 800 px', async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.setViewportSize(VIEWPORT);
  await openDemo(page, { backend: 'wasm', sizePx: 64, epochs: 2 });
  await page.getByTestId('train-start').click();
  const progress = page.getByTestId('training-progress');
  await expect(progress).toHaveAttribute('data-status', 'completed', { timeout: 10 * 60_000 });
  const steps = Number(await progress.getAttribute('data-steps'));
  expect(steps).toBeGreaterThan(1);

  const stepChart = page.getByTestId('chart-steps');
  await expect(stepChart).toHaveAttribute('data-points', String(steps));
  const surface = stepChart.locator('svg.recharts-surface');
  // Described by a sentence, and not an empty tab stop.
  await expect(surface).toHaveAttribute('role', 'img');
  await expect(surface).toHaveAttribute('aria-label', new RegExp(`^Training loss over ${steps} steps, last .*smoothing 0\\.600`));
  await expect(page.locator('svg.recharts-surface[tabindex]')).toHaveCount(0);

  // Smoothing: a heavier weight moves the smoothed series, and the label says so.
  const smoothedBefore = (await stepChart.getAttribute('data-last-smoothed'))!;
  await page.getByTestId('smoothing').fill('0.95');
  await expect(stepChart).not.toHaveAttribute('data-last-smoothed', smoothedBefore);
  await expect(surface).toHaveAttribute('aria-label', /smoothing 0\.950/);

  // Linear from 0, then log: another domain, ticks that fit inside the drawing.
  await expect(stepChart).toHaveAttribute('data-y-domain', /^0,/);
  const ticks = stepChart.locator('.recharts-yAxis-tick-labels text');
  const linearTicks = await ticks.allTextContents();
  expect(linearTicks[0]).toBe('0');
  await stepChart.getByTestId('loss-scale').check();
  await expect(stepChart).toHaveAttribute('data-scale', 'log');
  const [low] = (await stepChart.getAttribute('data-y-domain'))!.split(',').map(Number);
  expect(low).toBeGreaterThan(0);
  await expect.poll(() => ticks.allTextContents()).not.toEqual(linearTicks);
  const chartBox = (await surface.boundingBox())!;
  for (const tick of await ticks.all()) expect((await tick.boundingBox())!.x).toBeGreaterThanOrEqual(chartBox.x);

  // The tooltip names the epoch and both series.
  const epochChart = page.getByTestId('chart-epoch-loss');
  await epochChart.scrollIntoViewIfNeeded();
  const epochBox = (await epochChart.locator('svg.recharts-surface').boundingBox())!;
  await page.mouse.move(epochBox.x + epochBox.width * 0.9, epochBox.y + epochBox.height / 2);
  await page.mouse.move(epochBox.x + epochBox.width * 0.92, epochBox.y + epochBox.height / 2);
  const tooltip = epochChart.locator('.recharts-tooltip-wrapper');
  await expect(tooltip).toContainText('epoch 2');
  await expect(tooltip).toContainText('train');
  await expect(tooltip).toContainText('validation');

  // The step CSV: a header and one row per step, the last one the last step; the pictures are an SVG and a PNG.
  const csv = await downloaded(page, stepChart.getByTestId('download-csv'));
  expect(csv.name).toBe('finetune-lab-steps.csv');
  const rows = csv.bytes.toString('utf8').trimEnd().split('\r\n');
  expect(rows).toHaveLength(1 + steps);
  expect(rows.at(-1)!.split(',')[0]).toBe(String(steps));
  const svg = await downloaded(page, stepChart.getByTestId('download-svg'));
  expect(svg.name).toBe('finetune-lab-steps.svg');
  expect(svg.bytes.toString('utf8')).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg".*Loss per step.*recharts-line/s);
  for (const [chart, name] of [[stepChart, 'steps'], [page.getByTestId('confusion-matrix'), 'confusion']] as const) {
    const png = await downloaded(page, chart.getByTestId('download-png'));
    expect(png.name).toBe(`finetune-lab-${name}.png`);
    expect(png.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    fs.writeFileSync(testInfo.outputPath(png.name), png.bytes);
  }

  // The confusion matrix: row-normalised, each row sums to ~100%.
  const matrix = page.getByTestId('confusion-matrix');
  const cells = matrix.getByTestId('confusion-cell');
  await expect(cells).toHaveCount(9);
  await matrix.getByTestId('confusion-normalize').check();
  await expect(matrix).toHaveAttribute('data-normalized', 'true');
  const percents = (await cells.allTextContents()).map((text) => Number(text.replace('%', '')));
  for (let row = 0; row < 3; row += 1) {
    const sum = percents.slice(row * 3, row * 3 + 3).reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - 100)).toBeLessThanOrEqual(2); // each of 3 cells rounded to a whole percent
  }
  // One tab stop; the arrows move it, Enter opens the cell.
  await expect(matrix.locator('[data-testid="confusion-cell"][tabindex="0"]')).toHaveCount(1);
  await cells.first().focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  const focused = page.locator(':focus');
  await expect(focused).toHaveAttribute('data-row', '1');
  await expect(focused).toHaveAttribute('data-col', '1');
  await page.keyboard.press('Enter');
  await expect(focused).toHaveAttribute('aria-selected', 'true');
  await expect(focused).toHaveAttribute('data-open', 'true');
  await expect(matrix.locator('[aria-selected="true"]')).toHaveCount(1);
  await expect(matrix.locator('[data-testid="confusion-cell"][tabindex="0"]')).toHaveAttribute('data-col', '1');
  await expect(page.getByTestId('cell-images')).toContainText('squares predicted as squares');

  // Nothing on the page is wider than the window.
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
  await page.mouse.move(0, 0);
  await page.locator('.charts').screenshot({ path: testInfo.outputPath('charts.png') });
  expect(errors).toEqual([]);
});
