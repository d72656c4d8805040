// A small labelled image set drawn in the page, so a first visit can fine-tune within seconds with
// nothing downloaded: three shape classes, deliberately imbalanced (40 / 16 / 8) so that class
// weighting has something to fix.

import { createPrng } from '../core/prng';
import type { DroppedFile } from './ingest';

export const DEMO_CLASSES = [
  { name: 'circles', count: 40 },
  { name: 'squares', count: 16 },
  { name: 'triangles', count: 8 },
] as const;
const SIZE_PX = 96;
const ROOT = 'demo-shapes';

function colour(random: () => number): string {
  return `hsl(${Math.floor(random() * 360)} ${50 + Math.floor(random() * 40)}% ${35 + Math.floor(random() * 30)}%)`;
}

function draw(context: OffscreenCanvasRenderingContext2D, shape: string, random: () => number): void {
  context.fillStyle = `hsl(${Math.floor(random() * 360)} 30% ${80 + Math.floor(random() * 15)}%)`;
  context.fillRect(0, 0, SIZE_PX, SIZE_PX);
  const r = SIZE_PX * (0.18 + random() * 0.17);
  const x = r + random() * (SIZE_PX - 2 * r);
  const y = r + random() * (SIZE_PX - 2 * r);
  context.fillStyle = colour(random);
  context.beginPath();
  if (shape === 'circles') {
    context.arc(x, y, r, 0, Math.PI * 2);
  } else if (shape === 'squares') {
    const angle = random() * Math.PI;
    for (let i = 0; i < 4; i++) context.lineTo(x + r * Math.cos(angle + (i * Math.PI) / 2), y + r * Math.sin(angle + (i * Math.PI) / 2));
  } else {
    const angle = random() * Math.PI;
    for (let i = 0; i < 3; i++) context.lineTo(x + r * Math.cos(angle + (i * 2 * Math.PI) / 3), y + r * Math.sin(angle + (i * 2 * Math.PI) / 3));
  }
  context.closePath();
  context.fill();
}

/** The demo images as PNG files under demo-shapes/<class>/, the same seed giving the same set. */
export async function createDemoDataset(seed = 7): Promise<DroppedFile[]> {
  const random = createPrng(seed);
  const drawn: { path: string; fileName: string; canvas: OffscreenCanvas }[] = [];
  for (const { name, count } of DEMO_CLASSES) {
    for (let i = 0; i < count; i++) {
      const canvas = new OffscreenCanvas(SIZE_PX, SIZE_PX);
      draw(canvas.getContext('2d')!, name, random);
      const fileName = `${name.slice(0, -1)}-${String(i + 1).padStart(2, '0')}.png`;
      drawn.push({ path: `${ROOT}/${name}/${fileName}`, fileName, canvas });
    }
  }
  // All encodings at once: Chromium may settle convertToBlob on the next frame, and a background
  // tab gets about one frame a second, so one after another took ~45 s for the 64 images.
  const blobs = await Promise.all(drawn.map(({ canvas }) => canvas.convertToBlob({ type: 'image/png' })));
  return drawn.map(({ path, fileName }, i) => ({ path, file: new File([blobs[i]!], fileName, { type: 'image/png' }) }));
}
