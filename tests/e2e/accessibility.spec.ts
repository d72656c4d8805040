// axe-core's automated accessibility check on the page's four states: empty, a dataset loaded, a
// run training (paused, so the page holds still) and a finished run. No serious or critical
// violation may remain.

import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '../helpers/e2e-test';
import type { Page } from '@playwright/test';
import { openDemo } from '../helpers/page';

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

test('no serious or critical axe violations: empty page, loaded dataset, a run training, a finished run', async ({ page }) => {
  test.setTimeout(6 * 60_000);
  await page.goto('/?backend=wasm');
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 8 * 60_000 });
  expect(await seriousViolations(page), 'empty page').toEqual([]);
  await openDemo(page, { backend: 'wasm', sizePx: 64, epochs: 30 });
  await expect(page.getByTestId('diagnostics-panel')).toBeVisible({ timeout: 3 * 60_000 });
  expect(await seriousViolations(page), 'dataset loaded').toEqual([]);
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('chart-steps')).not.toHaveAttribute('data-points', '0', { timeout: 5 * 60_000 });
  await page.getByTestId('train-pause').click();
  await expect(page.getByTestId('training-progress')).toHaveAttribute('data-status', 'paused');
  expect(await seriousViolations(page), 'run training').toEqual([]);
  await page.getByTestId('train-stop').click();
  await expect(page.getByTestId('training-progress')).toHaveAttribute('data-status', 'stopped', { timeout: 5 * 60_000 });
  // A run to its end, with its validation charts and the top losses open.
  await page.getByTestId('epochs').fill('1');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('training-progress')).toHaveAttribute('data-status', 'completed', { timeout: 5 * 60_000 });
  await page.getByTestId('top-losses').locator('summary').click();
  expect(await seriousViolations(page), 'run finished').toEqual([]);
});
