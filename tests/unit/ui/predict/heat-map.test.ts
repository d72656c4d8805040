// The heat map's colours and the thumbnail box it is drawn over.

import { describe, expect, it } from 'vitest';
import { HEAT_MAP_MAX_ALPHA, heatColor, heatMapPixels, thumbnailBox } from '../../../../src/ui/predict/heat-map';

describe('heatColor', () => {
  it('runs from a transparent blue to a red at the largest opacity', () => {
    expect(heatColor(0)).toEqual([49, 54, 149, 0]);
    // 0.6 × 255 = 153
    expect(heatColor(1)).toEqual([165, 0, 38, Math.round(HEAT_MAP_MAX_ALPHA * 255)]);
    expect(heatColor(1)[3]).toBe(153);
    // The middle stop exactly; alpha 0.5 × 153 = 76.5, rounded up.
    expect(heatColor(0.5)).toEqual([254, 224, 144, 77]);
  });

  it('mixes the two stops around a value linearly', () => {
    // 0.125 is halfway between the first two stops: (49+116)/2 = 82.5, (54+173)/2 = 113.5, (149+209)/2 = 179; alpha 0.125 × 153 = 19.1.
    expect(heatColor(0.125)).toEqual([83, 114, 179, 19]);
  });

  it('clamps values outside 0..1 and treats NaN as 0', () => {
    expect(heatColor(2)).toEqual(heatColor(1));
    expect(heatColor(-1)).toEqual(heatColor(0));
    expect(heatColor(Number.NaN)).toEqual(heatColor(0));
  });

  it('lays the cells out as RGBA pixels, row-major', () => {
    const pixels = heatMapPixels(new Float32Array([0, 1]));
    expect(Array.from(pixels)).toEqual([49, 54, 149, 0, 165, 0, 38, 153]);
  });
});

describe('thumbnailBox', () => {
  it("keeps the image's aspect ratio when the network stretched it, and is square when it took the centre", () => {
    expect(thumbnailBox(640, 480, 'stretch', 128)).toEqual({ width: 128, height: 96 });
    expect(thumbnailBox(300, 1200, 'stretch', 128)).toEqual({ width: 32, height: 128 });
    expect(thumbnailBox(640, 480, 'center-crop', 128)).toEqual({ width: 128, height: 128 });
    expect(thumbnailBox(0, 0, 'stretch', 128)).toEqual({ width: 128, height: 128 });
  });
});
