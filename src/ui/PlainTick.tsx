// An axis label as plain SVG text. recharts' own label (its Text) measures its words in the DOM
// on every render, each measurement a forced layout: the larger part of a chart's update.

// The part of what recharts hands a custom tick (XAxisTickContentProps, YAxisTickContentProps) used here.
interface TickProps {
  x?: number | string;
  y?: number | string;
  payload?: { value?: unknown };
  textAnchor?: 'start' | 'middle' | 'end' | 'inherit';
  verticalAnchor?: string;
  fill?: string;
  fontSize?: number | string;
  className?: string;
  /** The axis's tickFormatter, which recharts hands a custom tick instead of applying it. */
  tickFormatter?: (value: unknown, index: number) => string;
  index?: number;
}

// Where recharts' Text puts the first line's baseline for each vertical anchor.
const BASELINE: Record<string, string> = { start: '0.71em', middle: '0.355em', end: '0' };

export function PlainTick({ x, y, payload, textAnchor, verticalAnchor = 'end', fill, fontSize, className, tickFormatter, index = 0 }: TickProps) {
  const value = payload?.value;
  const text = tickFormatter && value !== undefined ? tickFormatter(value, index) : String(value ?? '');
  return (
    <text x={x} y={y} dy={BASELINE[verticalAnchor] ?? '0'} textAnchor={textAnchor} fill={fill} fontSize={fontSize} className={className}>
      {text}
    </text>
  );
}
