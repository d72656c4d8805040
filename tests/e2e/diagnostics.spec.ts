// The diagnostics on the user's own data (stamps6): the seed answer's x/255-then-caffe input and an
// imbalanced subset with class weighting off each put the right finding first; a clean run shows
// nothing above "info".

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '../helpers/e2e-test';
import type { Page } from '@playwright/test';
import { hasShared, STAMPS_DIR } from '../helpers/paths';

async function trainAndDiagnose(page: Page, folder: string, setup: (page: Page) => Promise<void>) {
  await page.goto('/?backend=wasm');
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 120_000 });
  await page.getByTestId('dataset-input').setInputFiles(folder);
  await expect(page.getByTestId('dataset-panel')).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await page.getByTestId('image-size').selectOption('112');
  await page.getByTestId('epochs').fill('3');
  await setup(page);
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('training-progress')).toHaveAttribute('data-status', 'completed', { timeout: 10 * 60_000 });
  await expect(page.getByTestId('diagnostics-panel')).toHaveAttribute('data-stage', 'after-training');
  return page.getByTestId('finding');
}

/** stamps6 with every house but only three images of each other class: 32 against 3. */
function imbalancedSubset(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'imbalanced-')), 'stamps-imbalanced');
  for (const name of fs.readdirSync(STAMPS_DIR)) {
    const from = path.join(STAMPS_DIR, name);
    if (!fs.statSync(from).isDirectory()) continue;
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    const files = fs.readdirSync(from).sort();
    for (const file of name === 'houses' ? files : files.slice(0, 3)) fs.copyFileSync(path.join(from, file), path.join(dir, name, file));
  }
  return dir;
}

test.describe('diagnostics on stamps6 (needs ../shared)', () => {
  test.skip(!hasShared(), '../shared is not there');

  test('x/255-then-caffe input: "wrong normalization" comes first, with a fix', async ({ page }, testInfo) => {
    const findings = await trainAndDiagnose(page, STAMPS_DIR, async (p) => {
      await p.getByTestId('normalization').selectOption('div255-then-caffe');
    });
    await expect(findings.first()).toHaveAttribute('data-finding-id', 'input/wrong-normalization');
    await expect(findings.first()).toHaveAttribute('data-severity', 'critical');
    await page.screenshot({ path: testInfo.outputPath('diagnostics-div255.png'), fullPage: true });
    await findings.first().getByTestId('finding-fix').click();
    await expect(page.getByTestId('normalization')).toHaveValue('caffe');
  });

  test('an imbalanced subset with class weighting off: "class imbalance" comes first', async ({ page }, testInfo) => {
    const findings = await trainAndDiagnose(page, imbalancedSubset(), async (p) => {
      await p.getByTestId('class-weighting').selectOption('off');
    });
    await expect(findings.first()).toHaveAttribute('data-finding-id', 'data/class-imbalance');
    await page.screenshot({ path: testInfo.outputPath('diagnostics-imbalanced.png'), fullPage: true });
    await findings.first().getByTestId('finding-fix').click();
    await expect(page.getByTestId('class-weighting')).toHaveValue('balanced');
  });

  test('a clean run shows nothing above "info"', async ({ page }, testInfo) => {
    const findings = await trainAndDiagnose(page, STAMPS_DIR, async () => {});
    const severities = await findings.evaluateAll((nodes) => nodes.map((n) => `${n.getAttribute('data-finding-id')}:${n.getAttribute('data-severity')}`));
    testInfo.annotations.push({ type: 'findings on the clean stamps6 run', description: severities.join(', ') || 'none' });
    console.info(`findings on the clean stamps6 run: ${severities.join(', ') || 'none'}`);
    expect(severities.filter((s) => !s.endsWith(':info'))).toEqual([]);
  });
});
