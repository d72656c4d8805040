// What the live charts (TrainingCharts) and the run comparison (CompareRuns) draw the same way.

import { useState } from 'react';
import { PlainTick } from '../../PlainTick';
import { axisWidthPx, TICK_FONT_PX, type Axis, type LossScale } from './axis';

/**
 * recharts' accessibility layer makes each drawing a tab stop (role "application") whose arrow
 * keys move a tooltip that is not mounted yet: an empty stop. Each drawing is instead an image
 * labelled with a sentence (summaries.ts); its numbers are in the CSV.
 */
export const chartA11y = (summary: string) => ({ accessibilityLayer: false, role: 'img', 'aria-label': summary });

/** True from the first time the pointer comes over the element that spreads `hoverProps`: the tooltip mounts then. */
export function useHovered() {
  const [hovered, setHovered] = useState(false);
  return { hovered, hoverProps: hovered ? {} : { onPointerEnter: () => setHovered(true) } };
}

/** The y axis's props for `axis`, its ticks written by `format` (all of them, as plain text: see TrainingCharts). */
export function yAxisProps(axis: Axis, format: (value: number) => string, scale: LossScale = 'linear') {
  return {
    tick: PlainTick,
    interval: 0,
    scale,
    domain: axis.domain,
    ticks: axis.ticks,
    tickFormatter: format,
    allowDataOverflow: true,
    fontSize: TICK_FONT_PX,
    width: axisWidthPx(axis.ticks.map(format)),
  } as const;
}

/** A value in a tooltip: 4 significant digits are enough to tell two steps apart. */
export const tooltipValue = (value: unknown) => (typeof value === 'number' ? Number(value.toPrecision(4)) : String(value ?? ''));
