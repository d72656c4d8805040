import { describe, expect, it } from 'vitest';
import type { RgbaImage } from '../../../src/core/image';
import { CAFFE_MEAN_BGR, DEFAULT_PREPROCESS_SPEC, type PreprocessSpec } from '../../../src/core/preprocess-spec';
import { preprocessImage } from '../../../src/data/preprocess';

function solid(width: number, height: number, [r, g, b, a]: [number, number, number, number]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < data.length; p += 4) data.set([r, g, b, a], p);
  return { width, height, data };
}

const spec = (overrides: Partial<PreprocessSpec>): PreprocessSpec => ({ ...DEFAULT_PREPROCESS_SPEC, sizePx: 32, ...overrides });

function pixel(out: Float32Array, size: number, x: number, y: number): number[] {
  const o = (y * size + x) * 3;
  return [out[o]!, out[o + 1]!, out[o + 2]!];
}

describe('preprocessImage', () => {
  it('caffe: BGR order, ImageNet mean subtracted, 0..255 scale (Keras preprocess_input by hand)', () => {
    const out = preprocessImage(solid(50, 40, [200, 100, 50, 255]), spec({ normalization: 'caffe' }));
    expect(out.length).toBe(32 * 32 * 3);
    const [b, g, r] = pixel(out, 32, 7, 9);
    expect(b).toBeCloseTo(50 - 103.939, 4);
    expect(g).toBeCloseTo(100 - 116.779, 4);
    expect(r).toBeCloseTo(200 - 123.68, 4);
  });

  it('the other modes, by hand', () => {
    const image = solid(8, 8, [255, 0, 51, 255]);
    expect(pixel(preprocessImage(image, spec({ normalization: 'unit' })), 32, 0, 0).map((v) => +v.toFixed(5))).toEqual([1, 0, 0.2]);
    expect(pixel(preprocessImage(image, spec({ normalization: 'symmetric' })), 32, 0, 0).map((v) => +v.toFixed(5))).toEqual([1, -1, -0.6]);
    const [tr, tg, tb] = pixel(preprocessImage(image, spec({ normalization: 'torch' })), 32, 0, 0);
    expect(tr).toBeCloseTo((1 - 0.485) / 0.229, 4);
    expect(tg).toBeCloseTo((0 - 0.456) / 0.224, 4);
    expect(tb).toBeCloseTo((0.2 - 0.406) / 0.225, 4);
    // The seed answer's bug: /255 first, then the caffe mean: every value sits near -110 whatever the image.
    const [b, g, r] = pixel(preprocessImage(image, spec({ normalization: 'div255-then-caffe' })), 32, 0, 0);
    expect(b).toBeCloseTo(0.2 - CAFFE_MEAN_BGR[0], 4);
    expect(g).toBeCloseTo(0 - CAFFE_MEAN_BGR[1], 4);
    expect(r).toBeCloseTo(1 - CAFFE_MEAN_BGR[2], 4);
  });

  it('composites transparency onto the background', () => {
    const unit = spec({ normalization: 'unit', background: [255, 255, 255] });
    expect(pixel(preprocessImage(solid(4, 4, [0, 0, 0, 0]), unit), 32, 3, 3)).toEqual([1, 1, 1]);
    // Half-transparent black over white is mid-grey: 0·0.5 + 255·0.5 ≈ 127.5 (alpha 128 → 0.502).
    const [r] = pixel(preprocessImage(solid(4, 4, [0, 0, 0, 128]), unit), 32, 3, 3);
    expect(r).toBeCloseTo(127 / 255, 2);
    expect(pixel(preprocessImage(solid(4, 4, [0, 0, 0, 0]), spec({ normalization: 'unit', background: [0, 0, 255] })), 32, 0, 0)).toEqual([0, 0, 1]);
  });

  it('stretch keeps the whole image; center-crop keeps the centre square', () => {
    // 60×20: left third red, middle third green, right third blue.
    const width = 60;
    const data = new Uint8ClampedArray(width * 20 * 4);
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < width; x++) data.set(x < 20 ? [255, 0, 0, 255] : x < 40 ? [0, 255, 0, 255] : [0, 0, 255, 255], (y * width + x) * 4);
    }
    const image = { width, height: 20, data };
    const stretched = preprocessImage(image, spec({ normalization: 'unit', resize: 'stretch' }));
    expect(pixel(stretched, 32, 0, 16)).toEqual([1, 0, 0]);
    expect(pixel(stretched, 32, 31, 16)).toEqual([0, 0, 1]);
    const cropped = preprocessImage(image, spec({ normalization: 'unit', resize: 'center-crop' }));
    for (const x of [2, 16, 29]) expect(pixel(cropped, 32, x, 16)).toEqual([0, 1, 0]);
    // pad: 60×20 → 32×11 (the longer side to 32, rounded), centred: rows 10–20 hold it, the rest is background.
    const paddedOut = preprocessImage(image, spec({ normalization: 'unit', resize: 'pad', background: [255, 255, 255] }));
    const near = (got: number[], want: number[]) => got.forEach((v, c) => expect(v).toBeCloseTo(want[c]!, 6));
    near(pixel(paddedOut, 32, 0, 16), [1, 0, 0]);
    near(pixel(paddedOut, 32, 31, 16), [0, 0, 1]);
    for (const y of [0, 9, 21, 31]) near(pixel(paddedOut, 32, 16, y), [1, 1, 1]);
    near(pixel(paddedOut, 32, 16, 10), [0, 1, 0]);
    near(pixel(paddedOut, 32, 16, 20), [0, 1, 0]);
  });

  it('antialiases when shrinking: a 1-pixel checkerboard becomes flat grey', () => {
    const size = 256;
    const data = new Uint8ClampedArray(size * size * 4);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data.set((x + y) % 2 ? [255, 255, 255, 255] : [0, 0, 0, 255], (y * size + x) * 4);
    const out = preprocessImage({ width: size, height: size, data }, spec({ normalization: 'unit' }));
    for (const v of out) expect(Math.abs(v - 0.5)).toBeLessThan(0.02);
  });

  it('is deterministic and upsamples small images smoothly within their range', () => {
    const image = solid(3, 5, [10, 20, 30, 255]);
    image.data.set([250, 20, 30, 255], 0);
    const a = preprocessImage(image, spec({ sizePx: 64 }));
    const b = preprocessImage(image, spec({ sizePx: 64 }));
    expect(a).toEqual(b);
    for (let p = 2; p < a.length; p += 3) {
      expect(a[p]! + 123.68).toBeGreaterThanOrEqual(10 - 1e-3);
      expect(a[p]! + 123.68).toBeLessThanOrEqual(250 + 1e-3);
    }
  });

  it('refuses pixel data that does not match the stated size, and invalid specs', () => {
    expect(() => preprocessImage({ width: 10, height: 10, data: new Uint8ClampedArray(10) }, DEFAULT_PREPROCESS_SPEC)).toThrow(/does not match/);
    expect(() => preprocessImage(solid(4, 4, [0, 0, 0, 255]), spec({ sizePx: 8 }))).toThrow(/sizePx/);
  });
});

describe('augmentation', () => {
  it('crops and mirrors as asked', () => {
    // 4×1: red, green, blue, white.
    const data = new Uint8ClampedArray([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255]);
    const image = { width: 4, height: 1, data };
    const unit = spec({ normalization: 'unit' });
    const left = preprocessImage(image, unit, { crop: { x: 0, y: 0, width: 1, height: 1 }, flip: false });
    expect(pixel(left, 32, 16, 16)).toEqual([1, 0, 0]);
    const mirrored = preprocessImage(image, unit, { crop: { x: 0, y: 0, width: 4, height: 1 }, flip: true });
    const plain = preprocessImage(image, unit, { crop: { x: 0, y: 0, width: 4, height: 1 }, flip: false });
    expect(pixel(mirrored, 32, 0, 0)).toEqual(pixel(plain, 32, 31, 0));
    expect(pixel(mirrored, 32, 31, 0)).toEqual(pixel(plain, 32, 0, 0));
  });
});
