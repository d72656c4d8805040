// Steps the browser tests share: open the page on a backend and the generated demo set.

import { expect, type Page } from '@playwright/test';

/** Opens the lab on `backend`, waits for the model, opens the demo set and sets size and epochs. */
export async function openDemo(page: Page, { backend, sizePx, epochs }: { backend: 'wasm' | 'webgpu'; sizePx: number; epochs: number }) {
  await page.goto(`/?backend=${backend}`);
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 8 * 60_000 });
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', backend);
  await chooseDemo(page, { sizePx, epochs });
}

/** On a page whose model is ready: opens the demo set and sets size and epochs. */
export async function chooseDemo(page: Page, { sizePx, epochs }: { sizePx: number; epochs: number }) {
  await page.getByTestId('demo-button').click();
  await expect(page.getByTestId('dataset-panel')).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await page.getByTestId('image-size').selectOption(String(sizePx));
  await page.getByTestId('epochs').fill(String(epochs));
}
