// Dropping a folder: stamps6 through the folder input and through a drop with folder entries, a
// folder of broken and odd files, and the preprocessing every split is fed.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { expect, test } from '../helpers/e2e-test';
import type { Page } from '@playwright/test';
import { hasShared, STAMPS_DIR } from '../helpers/paths';

// Per class: images, and validation images from the default split (round(20%), at least one).
const STAMPS = {
  clothes: [19, 4],
  houses: [32, 6],
  instruments: [11, 2],
  roadsigns: [21, 4],
  space: [16, 3],
  tools: [13, 3],
} as const;

function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return errors;
}

async function expectStampsTable(page: Page) {
  await expect(page.getByTestId('dataset-panel')).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('class-row')).toHaveCount(6);
  for (const [name, [total, validation]] of Object.entries(STAMPS)) {
    const row = page.locator(`[data-testid="class-row"][data-class="${name}"]`);
    await expect(row.locator('[data-split="train"]')).toHaveText(String(total - validation));
    await expect(row.locator('[data-split="validation"]')).toHaveText(String(validation));
    await expect(row.locator('.thumbs img')).toHaveCount(4);
  }
  await expect(page.getByTestId('scan-facts')).toContainText('112 images read');
  // Counted with pngjs in Node: 109 of the 112 have a pixel with alpha < 255, 12 have R = G = B everywhere.
  await expect(page.getByTestId('scan-facts')).toContainText('12 grayscale, 109 with transparency');
  await expect(page.getByTestId('ingest-report')).toContainText('COPYRIGHT-tuxpaint-stamps');
}

async function sampleChecksums(page: Page) {
  await page.getByTestId('sample-splits').click();
  const train = page.getByTestId('sample-train');
  const validation = page.getByTestId('sample-validation');
  await expect(train).toBeVisible({ timeout: 60_000 });
  await expect(validation).toBeVisible({ timeout: 60_000 });
  return {
    trainHash: await train.getAttribute('data-spec-hash'),
    validationHash: await validation.getAttribute('data-spec-hash'),
    validationChecksum: await validation.getAttribute('data-checksum'),
  };
}

test.describe('stamps6 (needs ../shared)', () => {
  test.skip(!hasShared(), '../shared is not there');

  test('through the folder input: classes, counts per split, report, same spec for train and validation, identical batches across runs', async ({ page }, testInfo) => {
    const errors = watchConsole(page);
    await page.goto('/?backend=wasm');
    await page.getByTestId('dataset-input').setInputFiles(STAMPS_DIR);
    await expectStampsTable(page);
    const first = await sampleChecksums(page);
    expect(first.trainHash).toBe(first.validationHash);
    await page.screenshot({ path: testInfo.outputPath('dataset-stamps6.png'), fullPage: true });

    await page.reload();
    await page.getByTestId('dataset-input').setInputFiles(STAMPS_DIR);
    await expectStampsTable(page);
    const second = await sampleChecksums(page);
    expect(second.validationChecksum).toBe(first.validationChecksum);
    expect(errors).toEqual([]);
  });

  test('through a drop of folder entries, read in batches of readEntries', async ({ page }) => {
    const errors = watchConsole(page);
    await page.goto('/?backend=wasm');
    const files = fs
      .readdirSync(STAMPS_DIR, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => {
        const full = path.join(d.parentPath, d.name);
        return { path: `stamps6/${path.relative(STAMPS_DIR, full)}`, base64: fs.readFileSync(full).toString('base64') };
      });
    await page.evaluate((files) => {
      // A stand-in for the browser's FileSystemEntry tree of a dropped folder; readEntries hands
      // out at most 7 entries a call, as real readers hand out ~100.
      type Node = { name: string; children?: Map<string, Node>; file?: File };
      const root: Node = { name: 'stamps6', children: new Map() };
      for (const { path, base64 } of files) {
        const parts = path.split('/').slice(1);
        let node = root;
        for (const dir of parts.slice(0, -1)) {
          if (!node.children!.has(dir)) node.children!.set(dir, { name: dir, children: new Map() });
          node = node.children!.get(dir)!;
        }
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const name = parts.at(-1)!;
        node.children!.set(name, { name, file: new File([bytes], name, { type: name.endsWith('.png') ? 'image/png' : '' }) });
      }
      const entry = (node: Node): unknown =>
        node.file
          ? { name: node.name, isFile: true, isDirectory: false, file: (ok: (f: File) => void) => ok(node.file!) }
          : {
              name: node.name,
              isFile: false,
              isDirectory: true,
              createReader: () => {
                const rest = [...node.children!.values()];
                return { readEntries: (ok: (e: unknown[]) => void) => setTimeout(() => ok(rest.splice(0, 7).map(entry))) };
              },
            };
      const transfer = new DataTransfer();
      transfer.items.add(new File(['x'], 'stamps6'));
      DataTransferItem.prototype.webkitGetAsEntry = () => entry(root) as FileSystemEntry;
      const zone = document.querySelector('[data-testid="dataset-dropzone"]')!;
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, files);
    await expectStampsTable(page);
    expect(errors).toEqual([]);
  });
});

/** A PNG whose header claims 20000×20000 pixels: the lab must refuse it from the header alone. */
function hugePngHeader(): Buffer {
  const small = PNG.sync.write(new PNG({ width: 1, height: 1 }));
  const copy = Buffer.from(small);
  copy.writeUInt32BE(20000, 16);
  copy.writeUInt32BE(20000, 20);
  return copy;
}

/** A 2×2 24-bit BMP, written by hand (rows bottom-up, padded to 4 bytes). */
function bmp2x2(): Buffer {
  const header = Buffer.alloc(54);
  header.write('BM', 0);
  header.writeUInt32LE(54 + 16, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(2, 18);
  header.writeInt32LE(2, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  const rows = Buffer.from([0, 0, 255, 0, 255, 0, 0, 0, 255, 0, 0, 255, 255, 255, 0, 0]);
  return Buffer.concat([header, rows]);
}

/** The classic 1×1 transparent GIF89a (43 bytes). */
const GIF_1X1 = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

function oddFolder(extra: Record<string, Buffer> = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'odd-drop-'));
  const dir = path.join(root, 'odd data');
  const png = (w: number, h: number) => PNG.sync.write(Object.assign(new PNG({ width: w, height: h }), { data: Buffer.alloc(w * h * 4, 200) }));
  const write = (rel: string, bytes: Buffer | string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), bytes);
  };
  write('good a/first image.png', png(40, 30));
  write('good a/zweites Bild ü.png', png(30, 40));
  write('good a/nested/deeper.png', png(16, 16));
  write('b/photo.jpg', Buffer.from(jpeg.encode({ width: 32, height: 24, data: Buffer.alloc(32 * 24 * 4, 90) }, 90).data));
  write('b/zero.png', Buffer.alloc(0));
  write('b/truncated.png', png(64, 64).subarray(0, 60));
  write('b/corrupt.jpg', Buffer.from(Array.from({ length: 500 }, (_, i) => (i * 37) % 256)));
  write('b/notes.txt', 'not an image');
  write('b/vector.svg', '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
  write('b/huge.png', hugePngHeader());
  write('b/fine.png', png(20, 20));
  // Every format and PNG colour type the lab promises to read.
  const pngOf = (colorType: 0 | 4, bitDepth: 8 | 16) =>
    PNG.sync.write(Object.assign(new PNG({ width: 6, height: 6 }), { data: Buffer.alloc(144, 128) }), { colorType, bitDepth, inputColorType: 6, inputHasAlpha: true });
  write('formats/gray.png', pngOf(0, 8));
  write('formats/gray16.png', pngOf(0, 16));
  write('formats/gray-alpha.png', pngOf(4, 8));
  write('formats/tiny.bmp', bmp2x2());
  write('formats/pixel.gif', GIF_1X1);
  for (const [name, bytes] of Object.entries(extra)) write(name, bytes);
  write('empty/.DS_Store', 'x');
  write('one/only.png', png(8, 8));
  write('<img src=x onerror=alert(1)>/x.png', png(8, 8));
  write('<img src=x onerror=alert(1)>/y.png', png(8, 8));
  return dir;
}

test('a folder of broken and odd files: each named in the report, nothing fatal, names shown as text', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto('/?backend=wasm');
  // WebP made by the browser itself (no WebP encoder in Node here).
  const webp = Buffer.from(
    await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(5, 4);
      canvas.getContext('2d')!.fillRect(0, 0, 5, 4);
      const blob = await canvas.convertToBlob({ type: 'image/webp' });
      return Array.from(new Uint8Array(await blob.arrayBuffer()));
    }),
  );
  await page.getByTestId('dataset-input').setInputFiles(oddFolder({ 'formats/small.webp': webp }));
  await expect(page.getByTestId('dataset-panel')).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('class-row')).toHaveCount(5);
  // gray, gray16, gray-alpha, tiny.bmp, pixel.gif, small.webp: all read: 6 images, round(6 × 0.2) = 1 for validation.
  const formats = page.locator('[data-testid="class-row"][data-class="formats"]');
  await expect(formats.locator('[data-split="train"]')).toHaveText('5');
  await expect(formats.locator('[data-split="validation"]')).toHaveText('1');
  await expect(page.getByTestId('scan-facts')).toContainText('BMP');
  await expect(page.getByTestId('scan-facts')).toContainText('GIF');
  await expect(page.getByTestId('scan-facts')).toContainText('WEBP');
  await expect(page.locator('[data-testid="class-row"][data-class="<img src=x onerror=alert(1)>"] .class-name')).toHaveText('<img src=x onerror=alert(1)>');
  const report = page.getByTestId('ingest-report');
  const expectIssue = async (code: string, text: string) => expect(report.locator(`li[data-code="${code}"]`).filter({ hasText: text })).toHaveCount(1);
  await expectIssue('empty-file', 'b/zero.png');
  await expectIssue('decode-failed', 'b/truncated.png');
  await expectIssue('decode-failed', 'b/corrupt.jpg');
  await expectIssue('too-large', '20000×20000');
  await expectIssue('not-an-image', 'b/notes.txt');
  await expectIssue('unsupported-image', 'SVG');
  await expectIssue('empty-class', 'empty');
  await expectIssue('single-image-class', 'one');
  // Broken files are left out of the counts: b keeps photo.jpg and fine.png.
  await expect(page.locator('[data-testid="class-row"][data-class="b"] [data-split="train"]')).toHaveText('1');
  await expect(page.locator('[data-testid="class-row"][data-class="b"] [data-split="validation"]')).toHaveText('1');
  const download = page.waitForEvent('download');
  await page.getByTestId('report-download').click();
  const file = await (await download).path();
  expect(fs.readFileSync(file, 'utf8')).toContain('decode-failed\todd data/b/truncated.png');
  expect(errors).toEqual([]);
});

test('a drop with no class folders, or a single class, says what to drop', async ({ page }) => {
  await page.goto('/?backend=wasm');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flat-'));
  fs.mkdirSync(path.join(dir, 'holiday'));
  fs.writeFileSync(path.join(dir, 'holiday/a.png'), PNG.sync.write(new PNG({ width: 4, height: 4 })));
  fs.writeFileSync(path.join(dir, 'holiday/b.png'), PNG.sync.write(new PNG({ width: 4, height: 4 })));
  await page.getByTestId('dataset-input').setInputFiles(path.join(dir, 'holiday'));
  await expect(page.getByTestId('dataset-error')).toContainText('at least two class folders');
});
