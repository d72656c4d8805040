// The page as a lab: at 1440 × 900 the freeze slider and the step chart are in view together while
// a run trains; at 800 and 390 px nothing scrolls sideways; the x/255 bug is found before Start,
// and its fix is marked applied, checked again and gone. Screenshots of each state are saved.

import { expect, test } from '../helpers/e2e-test';
import type { Locator, Page } from '@playwright/test';
import { openDemo } from '../helpers/page';

async function inViewport(page: Page, locator: Locator): Promise<boolean> {
  const box = await locator.boundingBox();
  const viewport = page.viewportSize()!;
  return box !== null && box.y >= 0 && box.y + box.height <= viewport.height && box.x >= 0 && box.x + box.width <= viewport.width;
}

async function noSidewaysScroll(page: Page): Promise<void> {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
  expect(scrollWidth, 'the page is wider than the window').toBeLessThanOrEqual(clientWidth);
}

test('a dashboard at 1440 × 900: the freeze slider stays in view beside the step chart while a run trains', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto('/?backend=wasm');
  await page.screenshot({ path: testInfo.outputPath('1440-empty.png') });
  await openDemo(page, { backend: 'wasm', sizePx: 64, epochs: 40 });
  await page.screenshot({ path: testInfo.outputPath('1440-dataset.png'), fullPage: true });
  await page.getByTestId('train-start').click();
  const progress = page.getByTestId('training-progress');
  const stepChart = page.getByTestId('chart-steps');
  await expect(stepChart).not.toHaveAttribute('data-points', '0', { timeout: 5 * 60_000 });
  await page.getByTestId('train-pause').click();
  await expect(progress).toHaveAttribute('data-status', 'paused');
  await stepChart.scrollIntoViewIfNeeded();
  const slider = page.getByTestId('freeze-depth');
  expect(await inViewport(page, stepChart), 'the step chart is in view').toBe(true);
  expect(await inViewport(page, slider), 'the freeze slider is in view beside it').toBe(true);
  // The slider still changes the run from there.
  await slider.focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('freeze-label')).not.toHaveText('head only');
  await page.screenshot({ path: testInfo.outputPath('1440-running.png') });
  await expect(page.getByTestId('time-left')).toContainText('left');
  await page.getByTestId('train-stop').click();
  await expect(progress).toHaveAttribute('data-status', 'stopped', { timeout: 5 * 60_000 });
  await page.screenshot({ path: testInfo.outputPath('1440-finished.png'), fullPage: true });
});

for (const width of [800, 390]) {
  test(`nothing scrolls sideways at ${width} px, before and after a run`, async ({ page }, testInfo) => {
    await page.setViewportSize({ width, height: 900 });
    await openDemo(page, { backend: 'wasm', sizePx: 64, epochs: 1 });
    await page.getByTestId('advanced-settings').locator('summary').click();
    await noSidewaysScroll(page);
    await page.getByTestId('train-start').click();
    await expect(page.getByTestId('training-progress')).toHaveAttribute('data-status', 'completed', { timeout: 5 * 60_000 });
    await page.getByTestId('top-losses').locator('summary').click();
    await noSidewaysScroll(page);
    await page.screenshot({ path: testInfo.outputPath(`${width}-finished.png`), fullPage: true });
  });
}

test('x / 255 is found before Start; its fix is marked applied, checked again, and the finding goes', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await openDemo(page, { backend: 'wasm', sizePx: 64, epochs: 1 });
  await page.getByTestId('normalization').selectOption('div255-then-caffe');
  const panel = page.getByTestId('diagnostics-panel');
  const finding = panel.locator('[data-finding-id="input/wrong-normalization"]');
  await expect(finding).toHaveAttribute('data-severity', 'critical', { timeout: 3 * 60_000 });
  await expect(panel).toHaveAttribute('data-stage', 'before-training');
  await expect(page.getByTestId('training-progress')).toHaveCount(0);
  await expect(finding.getByTestId('finding-fix-restart')).toHaveText('Fix and start');
  await page.screenshot({ path: testInfo.outputPath('check-before-start.png') });
  await finding.getByTestId('finding-fix').click();
  await expect(page.getByTestId('normalization')).toHaveValue('caffe');
  await expect(finding.getByTestId('fix-applied')).toContainText('Applied');
  await expect(finding).toHaveCount(0, { timeout: 3 * 60_000 });
  await expect(page.getByTestId('fixed-findings')).toContainText('Fixed');
  await page.screenshot({ path: testInfo.outputPath('check-fixed.png') });
});
