// The confusion matrix's pure parts: counts or row fractions, two colour scales (blue for what
// the model got right, orange-red for its errors, so a 0.3 error never reads as a 0.3 success),
// moving through the cells with the keyboard, and the matrix as a picture of its own.

import { escapeXml, type SvgPicture } from './svg';

export type Cell = readonly [actual: number, predicted: number];

/** Each row divided by its sum (an empty row stays 0): recall on the diagonal, where each class's images went elsewhere. */
export function normalizeRows(confusion: readonly (readonly number[])[]): number[][] {
  return confusion.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count) => (total === 0 ? 0 : count / total));
  });
}

const CORRECT_RGB = [47, 111, 222] as const;
const ERROR_RGB = [217, 72, 15] as const;
/** Above this intensity the cell's text is white. */
const LIGHT_TEXT_FROM = 0.55;

/**
 * A cell's colours: white mixed with blue (the diagonal) or orange-red (an error) in proportion
 * to `intensity` (0–1: the value over the largest one shown).
 */
export function cellColors(intensity: number, correct: boolean): { background: string; color: string } {
  const t = Math.min(1, Math.max(0, Number.isFinite(intensity) ? intensity : 0));
  const [r, g, b] = (correct ? CORRECT_RGB : ERROR_RGB).map((channel) => Math.round(255 + (channel - 255) * t));
  return { background: `rgb(${r}, ${g}, ${b})`, color: t > LIGHT_TEXT_FROM ? '#fff' : '#1d232e' };
}

/** Each value over the largest shown: counts over the largest count, fractions as they are. */
export function intensities(values: readonly (readonly number[])[], normalized: boolean): number[][] {
  const max = normalized ? 1 : Math.max(1, ...values.flat());
  return values.map((row) => row.map((v) => v / max));
}

/** A value as its cell writes it: a count, or a row fraction as a whole percentage. */
export function cellText(value: number, normalized: boolean): string {
  return normalized ? `${Math.round(value * 100)}%` : String(value);
}

/** The cell a key moves to in an n × n grid (arrows, Home, End, and Ctrl+Home / Ctrl+End for the corners); null for other keys. */
export function moveCell([row, col]: Cell, key: string, n: number, ctrl = false): Cell | null {
  const last = n - 1;
  switch (key) {
    case 'ArrowUp':
      return [Math.max(0, row - 1), col];
    case 'ArrowDown':
      return [Math.min(last, row + 1), col];
    case 'ArrowLeft':
      return [row, Math.max(0, col - 1)];
    case 'ArrowRight':
      return [row, Math.min(last, col + 1)];
    case 'Home':
      return ctrl ? [0, 0] : [row, 0];
    case 'End':
      return ctrl ? [last, last] : [row, last];
    default:
      return null;
  }
}

/** A class name cut to `max` characters with an ellipsis (the full name goes in a title). */
export function abbreviate(name: string, max: number): string {
  return name.length <= max ? name : `${name.slice(0, Math.max(1, max - 1))}…`;
}

const CELL_PX = 40;
const LABEL_PX = 96;
const TITLE_PX = 40;
const LABEL_CHARS = 13;
/** The column labels lean right, 45°: room for the last one beyond the grid, px. */
const LEAN_PX = 72;
/** Width of a title character at 13 px, bold, px. */
const TITLE_CHAR_PX = 7.5;

/** The matrix as a standalone SVG: title, class names (cut, as on the page), the cells in their colours. */
export function confusionSvg(title: string, classNames: readonly string[], values: readonly (readonly number[])[], normalized: boolean): SvgPicture {
  const n = classNames.length;
  const width = Math.ceil(Math.max(LABEL_PX + n * CELL_PX + LEAN_PX, title.length * TITLE_CHAR_PX + 8));
  const height = TITLE_PX + LABEL_PX + n * CELL_PX + 8;
  const shade = intensities(values, normalized);
  const top = TITLE_PX + LABEL_PX;
  const parts: string[] = [
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="4" y="15" font-size="13" font-weight="600">${escapeXml(title)}</text>`,
    `<text x="4" y="32" font-size="11" fill="#555">rows: actual class, columns: predicted class</text>`,
  ];
  classNames.forEach((name, i) => {
    const label = escapeXml(abbreviate(name, LABEL_CHARS));
    const x = LABEL_PX + i * CELL_PX + CELL_PX / 2;
    parts.push(`<text x="${x}" y="${top - 6}" font-size="11" transform="rotate(-45 ${x} ${top - 6})">${label}</text>`);
    parts.push(`<text x="${LABEL_PX - 6}" y="${top + i * CELL_PX + CELL_PX / 2 + 4}" font-size="11" text-anchor="end">${label}</text>`);
  });
  values.forEach((row, actual) =>
    row.forEach((value, predicted) => {
      const { background, color } = cellColors(shade[actual]![predicted]!, actual === predicted);
      const x = LABEL_PX + predicted * CELL_PX;
      const y = top + actual * CELL_PX;
      parts.push(`<rect x="${x}" y="${y}" width="${CELL_PX - 1}" height="${CELL_PX - 1}" fill="${background}"/>`);
      parts.push(`<text x="${x + CELL_PX / 2}" y="${y + CELL_PX / 2 + 4}" font-size="11" text-anchor="middle" fill="${color}">${cellText(value, normalized)}</text>`);
    }),
  );
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">${parts.join('')}</svg>`;
  return { svg, width, height };
}
