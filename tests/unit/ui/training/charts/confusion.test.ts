// The confusion matrix's pure parts: row fractions, the two colour scales, keyboard moves, the picture.

import { describe, expect, it } from 'vitest';
import { abbreviate, cellColors, cellText, confusionSvg, intensities, moveCell, normalizeRows } from '../../../../../src/ui/training/charts/confusion';

describe('normalizeRows', () => {
  it('divides each row by its total, an empty row staying 0', () => {
    expect(normalizeRows([[3, 1], [0, 0], [1, 4]])).toEqual([[0.75, 0.25], [0, 0], [0.2, 0.8]]);
  });

  it('shades counts against the largest count, fractions as they are', () => {
    expect(intensities([[8, 2], [0, 4]], false)).toEqual([[1, 0.25], [0, 0.5]]);
    expect(intensities([[0.75, 0.25]], true)).toEqual([[0.75, 0.25]]);
    expect(cellText(0.746, true)).toBe('75%');
    expect(cellText(12, false)).toBe('12');
  });
});

describe('cellColors', () => {
  it('mixes white with blue on the diagonal and orange-red off it', () => {
    expect(cellColors(0, true).background).toBe('rgb(255, 255, 255)');
    expect(cellColors(0, false).background).toBe('rgb(255, 255, 255)');
    expect(cellColors(1, true).background).toBe('rgb(47, 111, 222)');
    expect(cellColors(1, false).background).toBe('rgb(217, 72, 15)');
    // Halfway: 255 + (47 − 255) / 2 = 151, 255 + (111 − 255) / 2 = 183, 255 + (222 − 255) / 2 = 238.5 → 239.
    expect(cellColors(0.5, true).background).toBe('rgb(151, 183, 239)');
  });

  it('writes light text on dark cells only, and clamps what is out of range', () => {
    expect(cellColors(0.9, false).color).toBe('#fff');
    expect(cellColors(0.2, false).color).not.toBe('#fff');
    expect(cellColors(2, true).background).toBe('rgb(47, 111, 222)');
    expect(cellColors(NaN, true).background).toBe('rgb(255, 255, 255)');
  });
});

describe('moveCell', () => {
  it('moves with the arrows, stopping at the edges', () => {
    expect(moveCell([1, 1], 'ArrowUp', 3)).toEqual([0, 1]);
    expect(moveCell([1, 1], 'ArrowDown', 3)).toEqual([2, 1]);
    expect(moveCell([1, 1], 'ArrowLeft', 3)).toEqual([1, 0]);
    expect(moveCell([1, 1], 'ArrowRight', 3)).toEqual([1, 2]);
    expect(moveCell([0, 2], 'ArrowUp', 3)).toEqual([0, 2]);
    expect(moveCell([0, 2], 'ArrowRight', 3)).toEqual([0, 2]);
  });

  it('goes to the row ends with Home and End, to the corners with Ctrl, and ignores other keys', () => {
    expect(moveCell([1, 1], 'Home', 3)).toEqual([1, 0]);
    expect(moveCell([1, 1], 'End', 3)).toEqual([1, 2]);
    expect(moveCell([1, 1], 'Home', 3, true)).toEqual([0, 0]);
    expect(moveCell([1, 1], 'End', 3, true)).toEqual([2, 2]);
    expect(moveCell([1, 1], 'a', 3)).toBeNull();
  });
});

describe('the picture', () => {
  it('cuts long names with an ellipsis', () => {
    expect(abbreviate('triangles', 6)).toBe('trian…');
    expect(abbreviate('cats', 6)).toBe('cats');
  });

  it('draws a cell per value in its colour, with its text, names escaped', () => {
    const { svg, width, height } = confusionSvg('Confusion <test>', ['a&b', 'c'], [[0.75, 0.25], [0, 1]], true);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('Confusion &lt;test&gt;');
    expect(svg).toContain('a&amp;b');
    expect(svg).not.toContain('a&b');
    expect(svg.match(/<rect /g)).toHaveLength(1 + 4); // the background, then 2 × 2 cells
    expect(svg).toContain('>75%</text>');
    expect(svg).toContain(`fill="${cellColors(1, true).background}"`);
    expect(svg).toContain(`fill="${cellColors(0.25, false).background}"`);
    // Labels 96 + 2 cells of 40 + 72 for the leaning column labels; title 40 + labels 96 + 2 cells + 8.
    expect([width, height]).toEqual([96 + 2 * 40 + 72, 40 + 96 + 2 * 40 + 8]);
    // A long title widens the picture: 60 characters × 7.5 + 8.
    expect(confusionSvg('x'.repeat(60), ['a'], [[1]], false).width).toBe(458);
  });
});
