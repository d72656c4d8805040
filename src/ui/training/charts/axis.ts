// The y axes of the training charts: a range that starts where the quantity does (0 for a loss on
// a linear axis, 0–1 for a fraction) and ends at a nice number, ticks that read as written, and an
// axis wide enough for its longest label.

export type LossScale = 'linear' | 'log';

export interface Axis {
  domain: [number, number];
  ticks: number[];
}

/** Intervals on a linear axis: about this many. */
const TARGET_INTERVALS = 5;
/** A linear step is one of these times a power of ten. */
const NICE_STEPS = [1, 2, 2.5, 5, 10];
/** Ticks on a log axis spanning at most LOG_FINE_DECADES decades: 1, 2 and 5 times each power of ten. */
const LOG_MANTISSAS = [1, 2, 5];
const LOG_FINE_DECADES = 3;
/** More log ticks than this: every other one (or every third…) is kept. */
const MAX_LOG_TICKS = 8;
/** Tick font size, px, and the width of one of its characters (digits, '.', '%' average ≈ 0.6 em). */
export const TICK_FONT_PX = 11;
const TICK_CHAR_EM = 0.62;
/** The tick line (6), its margin (2) and a little air on the left, px. */
const AXIS_PADDING_PX = 14;

export const FRACTION_AXIS: Axis = { domain: [0, 1], ticks: [0, 0.25, 0.5, 0.75, 1] };

/** Rounds away binary noise (0.30000000000000004 → 0.3). */
function clean(value: number): number {
  return Number(value.toPrecision(12));
}

/** 0 to the first nice number at or above `max`, in about five nice steps. */
export function linearAxis(max: number): Axis {
  if (!Number.isFinite(max) || max <= 0) return FRACTION_AXIS;
  const raw = max / TARGET_INTERVALS;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = clean(NICE_STEPS.find((s) => s * magnitude >= raw * (1 - 1e-9))! * magnitude);
  const intervals = Math.ceil(clean(max / step));
  const ticks = Array.from({ length: intervals + 1 }, (_, i) => clean(i * step));
  return { domain: [0, ticks.at(-1)!], ticks };
}

/** The nice numbers (1, 2, 5 × 10^k) from the decade below `low` to the one above `high`. */
function logCandidates(low: number, high: number, mantissas: readonly number[]): number[] {
  const out: number[] = [];
  for (let exponent = Math.floor(Math.log10(low)) - 1; exponent <= Math.ceil(Math.log10(high)); exponent += 1) {
    for (const m of mantissas) out.push(clean(m * 10 ** exponent));
  }
  return out;
}

/**
 * A log axis from the nice number at or below `min` to the one at or above `max`: 1, 2, 5 × 10^k
 * over a few decades, powers of ten over more. Both must be positive.
 */
export function logAxis(min: number, max: number): Axis {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(max)) return { domain: [0.1, 1], ticks: [0.1, 0.2, 0.5, 1] };
  const fine = Math.log10(max / min) <= LOG_FINE_DECADES;
  const candidates = logCandidates(min, max, fine ? LOG_MANTISSAS : [1]);
  const low = [...candidates].reverse().find((v) => v <= min * (1 + 1e-9))!;
  let high = candidates.find((v) => v >= max * (1 - 1e-9))!;
  // One value (a flat loss): an axis from the nice number below to the one above it.
  if (high === low) high = candidates[candidates.indexOf(low) + 1]!;
  let ticks = candidates.filter((v) => v >= low && v <= high);
  const every = Math.ceil(ticks.length / MAX_LOG_TICKS);
  if (every > 1) ticks = ticks.filter((_, i) => (ticks.length - 1 - i) % every === 0);
  return { domain: [low, high], ticks };
}

/** The axis of a loss chart over `values` (non-finite ones ignored; zeros too, on a log axis). */
export function lossAxis(values: readonly (number | null | undefined)[], scale: LossScale): Axis {
  const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (scale === 'linear') return linearAxis(Math.max(0, ...finite));
  const positive = finite.filter((v) => v > 0);
  return logAxis(Math.min(...positive), Math.max(...positive));
}

/** A tick as written: at most 3 significant digits, powers of ten below 0.001 or from 10,000 as 1e-4. */
export function formatTick(value: number): string {
  if (value === 0) return '0';
  const size = Math.abs(value);
  if (size < 1e-3 || size >= 1e4) return value.toExponential().replace('e+', 'e');
  return String(Number(value.toPrecision(3)));
}

/** A fraction as a percentage tick: 0.25 → "25%". */
export function formatPercentTick(value: number): string {
  return `${Math.round(value * 100)}%`;
}

/** The width, px, a y axis needs for its longest tick label (recharts' default, 60, cuts nothing but wastes room; 48 cut "0.785"). */
export function axisWidthPx(labels: readonly string[]): number {
  const longest = Math.max(1, ...labels.map((l) => l.length));
  return Math.ceil(longest * TICK_FONT_PX * TICK_CHAR_EM) + AXIS_PADDING_PX;
}
