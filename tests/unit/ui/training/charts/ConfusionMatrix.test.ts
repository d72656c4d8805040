// The matrix as the page first shows it: counts, one tab stop, errors in their own colour, long
// class names cut with the full name in a title; and an open cell's images, which an error cell
// offers to leave out or move.

import { createElement } from 'react';
import { describe, expect, it } from 'vitest';
import { ConfusionMatrix, OpenCell } from '../../../../../src/ui/training/charts/ConfusionMatrix';
import { cellColors } from '../../../../../src/ui/training/charts/confusion';
import { fakeLabStore } from '../../../state/fake-store';
import { epochRecord, runInfo } from '../../../state/fixtures';
import { renderWithStore } from '../../render';

describe('ConfusionMatrix', () => {
  it('is a grid with one tab stop, its errors shaded apart from its diagonal', () => {
    const { store } = fakeLabStore();
    const run = { ...runInfo(), classNames: ['a', 'a very long class name'] };
    // epochRecord: confusion [[1, 0], [1, 0]]; the largest count is 1.
    const html = renderWithStore(store, () => createElement(ConfusionMatrix, { run, epoch: epochRecord(0) }));
    expect(html).toContain('role="grid"');
    expect(html.match(/role="gridcell"/g)).toHaveLength(4);
    expect(html.match(/tabindex="0"/g)).toHaveLength(1);
    expect(html.match(/tabindex="-1"/g)).toHaveLength(3);
    expect(html).not.toContain('aria-selected="true"');
    // Cell (0, 0), right, count 1 of 1: full blue; cell (1, 0), an error of 1: full orange-red.
    expect(html).toContain(`background:${cellColors(1, true).background}`);
    expect(html).toContain(`background:${cellColors(1, false).background}`);
    expect(html).toContain('aria-label="1 a very long class name image predicted as a"');
    expect(html).toContain('title="a very long class name">a very long…</th>');
    expect(html).toContain('1 of 2 validation images (50.0%) predicted as their class');
    expect(html).toContain('data-testid="confusion-normalize"');
  });

  it("opens an error cell as a review with one click to leave each image out or move it, and a right cell as thumbnails", () => {
    const { store } = fakeLabStore();
    const run = runInfo();
    const validation = epochRecord(0).validation!;
    // d/b/1.png is filed under b and predicted as a.
    const error = renderWithStore(store, () => createElement(OpenCell, { run, validation, cell: [1, 0] }));
    expect(error).toContain('b predicted as a: 1 image');
    expect(error).toContain('data-testid="cell-review" data-path="d/b/1.png"');
    expect(error).toContain('data-testid="drop-image"');
    expect(error).toContain('Move to a</button>');
    const right = renderWithStore(store, () => createElement(OpenCell, { run, validation, cell: [0, 0] }));
    expect(right).toContain('a predicted as a: 1 image');
    expect(right).toContain('data-testid="cell-thumbs"');
    expect(right).toContain('90.0% · loss 0.10');
    expect(right).not.toContain('data-testid="drop-image"');
  });
});
