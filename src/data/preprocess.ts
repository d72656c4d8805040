// The single implementation of a PreprocessSpec: RGBA pixels in, a network input out. The same
// code runs in the decoding workers, in the training worker and in Node tests, so train,
// validation and test images can only differ if their specs do.

import { LabError } from '../core/errors';
import type { RgbaImage } from '../core/image';
import {
  CAFFE_MEAN_BGR,
  TORCH_MEAN_RGB,
  TORCH_STD_RGB,
  type PreprocessSpec,
  validatePreprocessSpec,
} from '../core/preprocess-spec';

/** A rectangle of the source image, in pixels. */
export interface SourceRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Per output pixel along one axis: the first source index and the normalised filter weights. */
interface AxisFilter {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  maxTaps: number;
}

/** Training-only augmentation of one image: a crop replacing the resize rule's, and a mirror. */
export interface Augmentation {
  crop: SourceRect;
  flip: boolean;
}

/**
 * Preprocesses one image: composite alpha onto the spec's background, fit it into the square by
 * the spec's resize rule (or the augmentation's crop) with an antialiased bilinear filter, mirror
 * it if asked, and normalise.
 * Returns a [sizePx, sizePx, 3] float tensor's data, channels last, in the mode's channel order.
 */
export function preprocessImage(image: RgbaImage, spec: PreprocessSpec, augmentation: Augmentation | null = null): Float32Array {
  validatePreprocessSpec(spec);
  const { width, height, data } = image;
  if (width < 1 || height < 1 || data.length < width * height * 4) {
    throw new LabError('input/invalid', `Image data does not match its size ${width}×${height}.`);
  }
  const size = spec.sizePx;
  const rgb =
    spec.resize === 'pad' && !augmentation
      ? padded(image, size, spec.background)
      : resizeComposited(image, augmentation?.crop ?? sourceRect(width, height, spec), size, size, spec.background);
  if (augmentation?.flip) mirrorInPlace(rgb, size);
  normalizeInPlace(rgb, spec);
  return rgb;
}

function sourceRect(width: number, height: number, spec: PreprocessSpec): SourceRect {
  if (spec.resize === 'stretch') return { x: 0, y: 0, width, height };
  const side = Math.min(width, height);
  return { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), width: side, height: side };
}

/**
 * Triangle-filter weights for resampling `srcLength` pixels starting at `srcStart` to `dstLength`.
 * When shrinking, the filter widens with the scale so every source pixel contributes (antialiasing),
 * the way PIL's BILINEAR resize does.
 */
function axisFilter(srcStart: number, srcLength: number, dstLength: number): AxisFilter {
  // The filter reads only inside the source rectangle: a crop never bleeds in its surroundings.
  const srcEnd = srcStart + srcLength;
  const scale = srcLength / dstLength;
  const stretch = Math.max(scale, 1);
  const support = stretch;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(dstLength);
  const count = new Int32Array(dstLength);
  const weights = new Float32Array(dstLength * maxTaps);
  for (let i = 0; i < dstLength; i++) {
    const center = srcStart + (i + 0.5) * scale;
    const lo = Math.max(srcStart, Math.floor(center - support));
    const hi = Math.min(srcEnd, Math.ceil(center + support));
    let total = 0;
    let n = 0;
    for (let j = lo; j < hi && n < maxTaps; j++, n++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - center) / stretch));
      weights[i * maxTaps + n] = w;
      total += w;
    }
    if (total === 0) {
      // A degenerate window (cannot happen for sizes ≥ 1, but never divide by zero): nearest pixel.
      weights[i * maxTaps] = 1;
      n = 1;
      total = 1;
      start[i] = Math.min(srcEnd - 1, Math.max(srcStart, Math.floor(center)));
    } else {
      start[i] = lo;
    }
    for (let t = 0; t < n; t++) weights[i * maxTaps + t]! /= total;
    count[i] = n;
  }
  return { start, count, weights, maxTaps };
}

/**
 * 'pad': the whole image resized so that its longer side is `size`, aspect ratio kept, centred on
 * the background: nothing is squeezed or cut off.
 */
function padded(image: RgbaImage, size: number, background: readonly [number, number, number]): Float32Array {
  const scale = size / Math.max(image.width, image.height);
  const innerWidth = Math.max(1, Math.min(size, Math.round(image.width * scale)));
  const innerHeight = Math.max(1, Math.min(size, Math.round(image.height * scale)));
  const inner = resizeComposited(image, { x: 0, y: 0, width: image.width, height: image.height }, innerWidth, innerHeight, background);
  const out = new Float32Array(size * size * 3);
  for (let p = 0; p < size * size; p++) out.set(background, p * 3);
  const left = Math.floor((size - innerWidth) / 2);
  const top = Math.floor((size - innerHeight) / 2);
  for (let y = 0; y < innerHeight; y++) out.set(inner.subarray(y * innerWidth * 3, (y + 1) * innerWidth * 3), ((top + y) * size + left) * 3);
  return out;
}

/** Composite onto the background and resample to outWidth × outHeight RGB floats in 0..255. */
function resizeComposited(
  image: RgbaImage,
  rect: SourceRect,
  outWidth: number,
  outHeight: number,
  background: readonly [number, number, number],
): Float32Array {
  const { width, data } = image;
  const fx = axisFilter(rect.x, rect.width, outWidth);
  const fy = axisFilter(rect.y, rect.height, outHeight);
  const [br, bg, bb] = background;

  // Only the source rows some output row reads are resampled horizontally.
  const rowFirst = fy.start[0]!;
  const rowLast = fy.start[outHeight - 1]! + fy.count[outHeight - 1]! - 1;
  const rows = rowLast - rowFirst + 1;
  const horizontal = new Float32Array(rows * outWidth * 3); // [rows, outWidth, 3]
  for (let r = 0; r < rows; r++) {
    const rowOffset = (rowFirst + r) * width * 4;
    for (let i = 0; i < outWidth; i++) {
      let red = 0;
      let green = 0;
      let blue = 0;
      const base = i * fx.maxTaps;
      const first = fx.start[i]!;
      for (let t = 0, n = fx.count[i]!; t < n; t++) {
        const p = rowOffset + (first + t) * 4;
        const alpha = data[p + 3]! / 255;
        const w = fx.weights[base + t]!;
        red += w * (data[p]! * alpha + br * (1 - alpha));
        green += w * (data[p + 1]! * alpha + bg * (1 - alpha));
        blue += w * (data[p + 2]! * alpha + bb * (1 - alpha));
      }
      const o = (r * outWidth + i) * 3;
      horizontal[o] = red;
      horizontal[o + 1] = green;
      horizontal[o + 2] = blue;
    }
  }

  const out = new Float32Array(outWidth * outHeight * 3); // [outHeight, outWidth, 3]
  for (let y = 0; y < outHeight; y++) {
    const base = y * fy.maxTaps;
    const first = fy.start[y]! - rowFirst;
    for (let x = 0; x < outWidth; x++) {
      let red = 0;
      let green = 0;
      let blue = 0;
      for (let t = 0, n = fy.count[y]!; t < n; t++) {
        const w = fy.weights[base + t]!;
        const p = ((first + t) * outWidth + x) * 3;
        red += w * horizontal[p]!;
        green += w * horizontal[p + 1]!;
        blue += w * horizontal[p + 2]!;
      }
      const o = (y * outWidth + x) * 3;
      out[o] = red;
      out[o + 1] = green;
      out[o + 2] = blue;
    }
  }
  return out;
}

/** Mirrors a [size, size, 3] image left to right. */
function mirrorInPlace(rgb: Float32Array, size: number): void {
  for (let y = 0; y < size; y++) {
    for (let left = 0, right = size - 1; left < right; left++, right--) {
      for (let c = 0; c < 3; c++) {
        const a = (y * size + left) * 3 + c;
        const b = (y * size + right) * 3 + c;
        const t = rgb[a]!;
        rgb[a] = rgb[b]!;
        rgb[b] = t;
      }
    }
  }
}

/** Turns RGB 0..255 into the spec's value range and channel order. */
function normalizeInPlace(rgb: Float32Array, spec: PreprocessSpec): void {
  const [meanB, meanG, meanR] = CAFFE_MEAN_BGR;
  for (let p = 0; p < rgb.length; p += 3) {
    const r = rgb[p]!;
    const g = rgb[p + 1]!;
    const b = rgb[p + 2]!;
    switch (spec.normalization) {
      case 'caffe':
        rgb[p] = b - meanB;
        rgb[p + 1] = g - meanG;
        rgb[p + 2] = r - meanR;
        break;
      case 'div255-then-caffe':
        rgb[p] = b / 255 - meanB;
        rgb[p + 1] = g / 255 - meanG;
        rgb[p + 2] = r / 255 - meanR;
        break;
      case 'unit':
        rgb[p] = r / 255;
        rgb[p + 1] = g / 255;
        rgb[p + 2] = b / 255;
        break;
      case 'symmetric':
        rgb[p] = r / 127.5 - 1;
        rgb[p + 1] = g / 127.5 - 1;
        rgb[p + 2] = b / 127.5 - 1;
        break;
      case 'torch':
        rgb[p] = (r / 255 - TORCH_MEAN_RGB[0]) / TORCH_STD_RGB[0];
        rgb[p + 1] = (g / 255 - TORCH_MEAN_RGB[1]) / TORCH_STD_RGB[1];
        rgb[p + 2] = (b / 255 - TORCH_MEAN_RGB[2]) / TORCH_STD_RGB[2];
        break;
    }
  }
}
