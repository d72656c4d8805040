// A perceptual fingerprint of an image (dHash), so that copies of the same picture are found even
// after re-encoding, resizing or a brightness change: the basis of the leakage check.

import { LabError } from '../errors';
import type { RgbaImage } from '../image';

/** dHash compares neighbours in a 9 × 8 thumbnail: 8 comparisons per row, 8 rows, 64 bits. */
const THUMB_WIDTH = 9;
const THUMB_HEIGHT = 8;
export const DIFFERENCE_HASH_BITS = 64;
const HASH_HEX_DIGITS = DIFFERENCE_HASH_BITS / 4;

/**
 * Neighbours closer than this (in gray levels, 0..255) count as equal: far below one 8-bit level,
 * far above the float rounding of area averaging, so flat areas give 0 bits rather than noise.
 */
const EQUAL_GRAY_LEVELS = 1e-3;

/**
 * Gray levels 0..255 by ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B, what PIL's
 * convert('L') and so the imagehash library use). Transparent pixels are composited onto
 * `backgroundGray`, white by default like DEFAULT_PREPROCESS_SPEC's background.
 */
export function rgbaToGray(image: RgbaImage, backgroundGray = 255): Float32Array {
  const { width, height, data } = image;
  const gray = new Float32Array(width * height); // [height, width]
  for (let i = 0; i < gray.length; i++) {
    const p = i * 4;
    const alpha = data[p + 3]! / 255;
    const luma = 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!;
    gray[i] = luma * alpha + backgroundGray * (1 - alpha);
  }
  return gray;
}

/**
 * dHash (N. Krawetz, "Kind of like that", 2013): shrink to 9 × 8 by area averaging, then one bit
 * per horizontal neighbour pair, 1 when the right pixel is brighter (the imagehash library's
 * convention; Krawetz's post inverts every bit). Bits are row-major, the first one most
 * significant; returned as 16 hex digits. A flat image hashes to all zeros.
 */
export function differenceHash(gray: Float32Array | Uint8Array, width: number, height: number): string {
  if (!(width >= 1 && height >= 1) || gray.length < width * height) {
    throw new LabError('input/invalid', `Gray image data does not match its size ${width}×${height}.`);
  }
  const thumb = areaResize(gray, width, height, THUMB_WIDTH, THUMB_HEIGHT); // [8, 9]
  let hex = '';
  for (let nibble = 0; nibble < HASH_HEX_DIGITS; nibble++) {
    let value = 0;
    for (let b = 0; b < 4; b++) {
      const bit = nibble * 4 + b;
      const row = Math.floor(bit / (THUMB_WIDTH - 1));
      const col = bit % (THUMB_WIDTH - 1);
      const left = thumb[row * THUMB_WIDTH + col]!;
      const right = thumb[row * THUMB_WIDTH + col + 1]!;
      value = (value << 1) | (right - left > EQUAL_GRAY_LEVELS ? 1 : 0);
    }
    hex += value.toString(16);
  }
  return hex;
}

/** Bits in which two difference hashes differ, 0..64. */
export function hammingDistance(a: string, b: string): number {
  if (a.length !== HASH_HEX_DIGITS || b.length !== HASH_HEX_DIGITS) {
    throw new LabError('input/invalid', `Difference hashes are ${HASH_HEX_DIGITS} hex digits, not '${a}' and '${b}'.`);
  }
  const half = HASH_HEX_DIGITS / 2;
  return popcount32(parseInt(a.slice(0, half), 16) ^ parseInt(b.slice(0, half), 16)) + popcount32(parseInt(a.slice(half), 16) ^ parseInt(b.slice(half), 16));
}

function popcount32(value: number): number {
  let v = value >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** For each output cell along one axis, the source pixels it covers and the share of each. */
function areaWeights(srcLength: number, dstLength: number): { index: number; weight: number }[][] {
  const scale = srcLength / dstLength;
  return Array.from({ length: dstLength }, (_, i) => {
    const start = i * scale;
    const end = (i + 1) * scale;
    const taps: { index: number; weight: number }[] = [];
    for (let j = Math.floor(start); j < Math.min(srcLength, Math.ceil(end)); j++) {
      const overlap = Math.min(end, j + 1) - Math.max(start, j);
      if (overlap > 0) taps.push({ index: j, weight: overlap / scale });
    }
    return taps;
  });
}

/** Area-averaging resize (every source pixel counts by the area it covers), also for upscaling. */
function areaResize(gray: Float32Array | Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Float64Array {
  const across = areaWeights(width, outWidth);
  const down = areaWeights(height, outHeight);
  const rows = new Float64Array(height * outWidth); // [height, outWidth]
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outWidth; x++) {
      let sum = 0;
      for (const { index, weight } of across[x]!) sum += weight * gray[y * width + index]!;
      rows[y * outWidth + x] = sum;
    }
  }
  const out = new Float64Array(outHeight * outWidth); // [outHeight, outWidth]
  for (let y = 0; y < outHeight; y++) {
    for (const { index, weight } of down[y]!) {
      for (let x = 0; x < outWidth; x++) out[y * outWidth + x]! += weight * rows[index * outWidth + x]!;
    }
  }
  return out;
}

/** Side of the colour signature's grid: 12 × 12 cells, 432 bytes per image. */
export const COLOR_SIGNATURE_SIDE = 12;

/**
 * The image as a 12 × 12 grid of mean RGB colours over white (area averages, row-major, RGB):
 * what a near-duplicate check compares once dHash (grey-level structure at 9 × 8) has matched. A
 * copy that was resized or re-encoded keeps every cell close (stamps6: ≤ 56 levels); two drawings
 * that differ in one coloured region (its stoplights, one lamp lit) differ by 167 there.
 */
export function colorSignature(image: { width: number; height: number; data: ArrayLike<number> }, side = COLOR_SIGNATURE_SIDE): Uint8Array {
  const { width, height, data } = image;
  const sums = new Float64Array(side * side * 3);
  const counts = new Float64Array(side * side);
  for (let y = 0; y < height; y++) {
    const row = Math.min(side - 1, Math.floor((y * side) / height));
    for (let x = 0; x < width; x++) {
      const cell = row * side + Math.min(side - 1, Math.floor((x * side) / width));
      const p = (y * width + x) * 4;
      const alpha = data[p + 3]! / 255;
      for (let c = 0; c < 3; c++) sums[cell * 3 + c]! += data[p + c]! * alpha + 255 * (1 - alpha);
      counts[cell]! += 1;
    }
  }
  return Uint8Array.from(sums, (sum, i) => Math.round(sum / Math.max(1, counts[Math.floor(i / 3)]!)));
}

/** The largest difference of one channel of one cell between two signatures (0..255). */
export function maxSignatureDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
