// How a heat map is drawn over its image: a colour ramp whose opacity grows with the value (so
// the places the model ignored show the photo as it is), and the box that shows the image the way
// the network saw it.

import type { ResizeRule } from '../../core/preprocess-spec';

/** Opacity of the hottest cell: the image must still show through it. */
export const HEAT_MAP_MAX_ALPHA = 0.6;

/** Cold to hot, evenly spaced over 0..1 (ColorBrewer's RdYlBu, reversed). */
const RAMP: readonly (readonly [number, number, number])[] = [
  [49, 54, 149],
  [116, 173, 209],
  [254, 224, 144],
  [244, 109, 67],
  [165, 0, 38],
];

/** RGBA (0..255) of a value in 0..1; values outside (or NaN) are clamped. */
export function heatColor(value: number): [number, number, number, number] {
  const v = Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
  const position = v * (RAMP.length - 1);
  const low = Math.min(RAMP.length - 2, Math.floor(position));
  const t = position - low;
  const [a, b] = [RAMP[low]!, RAMP[low + 1]!];
  const mix = (i: 0 | 1 | 2) => Math.round(a[i] + (b[i] - a[i]) * t);
  return [mix(0), mix(1), mix(2), Math.round(v * HEAT_MAP_MAX_ALPHA * 255)];
}

/** The RGBA pixels of a row-major grid of values, one pixel per cell (for ImageData). */
export function heatMapPixels(values: ArrayLike<number>): Uint8ClampedArray<ArrayBuffer> {
  const pixels = new Uint8ClampedArray(values.length * 4);
  for (let i = 0; i < values.length; i++) pixels.set(heatColor(values[i] ?? 0), i * 4);
  return pixels;
}

/**
 * The thumbnail's box, at most `maxPx` a side. The heat map covers the network's square input:
 * stretched back over the whole image ('stretch', the image keeps its aspect ratio), or over the
 * centre square that was kept ('center-crop', a square box the image covers).
 */
export function thumbnailBox(width: number, height: number, resize: ResizeRule, maxPx: number): { width: number; height: number } {
  if (resize === 'center-crop' || !(width > 0 && height > 0)) return { width: maxPx, height: maxPx };
  const scale = maxPx / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
