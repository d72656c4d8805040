// Training-only augmentation, seeded: a random resized crop (Inception-style, as torchvision's
// RandomResizedCrop) and a horizontal flip. Validation and test images are never augmented.

import { createPrng } from '../core/prng';
import type { Augmentation } from './preprocess';

/** Share of the image area a crop keeps, and its aspect ratio range. */
export const CROP_AREA_RANGE: readonly [number, number] = [0.35, 1];
export const CROP_RATIO_RANGE: readonly [number, number] = [3 / 4, 4 / 3];
const ATTEMPTS = 10;

/**
 * The augmentation of one image for one epoch: the same (seed, epoch, image) always gives the
 * same crop and flip, so a run can be reproduced.
 */
export function augmentationFor(width: number, height: number, seed: number, epoch: number, imageIndex: number): Augmentation {
  const random = createPrng((seed * 0x9e3779b1 + epoch * 0x85ebca6b + imageIndex * 0xc2b2ae35) >>> 0);
  const area = width * height;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const target = area * (CROP_AREA_RANGE[0] + random() * (CROP_AREA_RANGE[1] - CROP_AREA_RANGE[0]));
    const logRatio = Math.log(CROP_RATIO_RANGE[0]) + random() * (Math.log(CROP_RATIO_RANGE[1]) - Math.log(CROP_RATIO_RANGE[0]));
    const ratio = Math.exp(logRatio);
    const w = Math.round(Math.sqrt(target * ratio));
    const h = Math.round(Math.sqrt(target / ratio));
    if (w >= 1 && h >= 1 && w <= width && h <= height) {
      const x = Math.floor(random() * (width - w + 1));
      const y = Math.floor(random() * (height - h + 1));
      return { crop: { x, y, width: w, height: h }, flip: random() < 0.5 };
    }
  }
  // No random crop fitted (a large area on an elongated image): the centre crop with the ratio
  // clamped to the range, as torchvision does.
  const ratio = width / height;
  let w = width;
  let h = height;
  if (ratio < CROP_RATIO_RANGE[0]) h = Math.max(1, Math.round(w / CROP_RATIO_RANGE[0]));
  else if (ratio > CROP_RATIO_RANGE[1]) w = Math.max(1, Math.round(h * CROP_RATIO_RANGE[1]));
  return { crop: { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h }, flip: random() < 0.5 };
}
