import { describe, expect, it } from 'vitest';
import { augmentationFor, CROP_AREA_RANGE, CROP_RATIO_RANGE } from '../../../src/data/augment';

describe('augmentationFor', () => {
  it('is reproducible per (seed, epoch, image) and varies across epochs', () => {
    expect(augmentationFor(640, 480, 1, 0, 5)).toEqual(augmentationFor(640, 480, 1, 0, 5));
    const crops = new Set(Array.from({ length: 10 }, (_, epoch) => JSON.stringify(augmentationFor(640, 480, 1, epoch, 5))));
    expect(crops.size).toBe(10);
  });

  it('keeps crops inside the image, within the area and ratio ranges, and flips about half the time', () => {
    let flips = 0;
    for (let i = 0; i < 500; i++) {
      const { crop, flip } = augmentationFor(300, 200, 7, 0, i);
      expect(crop.x >= 0 && crop.y >= 0 && crop.x + crop.width <= 300 && crop.y + crop.height <= 200).toBe(true);
      const area = (crop.width * crop.height) / (300 * 200);
      expect(area).toBeGreaterThanOrEqual(CROP_AREA_RANGE[0] - 0.02);
      const ratio = crop.width / crop.height;
      expect(ratio).toBeGreaterThanOrEqual(CROP_RATIO_RANGE[0] - 0.05);
      expect(ratio).toBeLessThanOrEqual(CROP_RATIO_RANGE[1] + 0.05);
      flips += flip ? 1 : 0;
    }
    expect(flips).toBeGreaterThan(200);
    expect(flips).toBeLessThan(300);
  });

  it('falls back to a centre crop with the ratio clamped when no random crop fits (a 1000×1 strip)', () => {
    expect(augmentationFor(1000, 1, 1, 0, 0).crop).toEqual({ x: 499, y: 0, width: 1, height: 1 });
  });
});
