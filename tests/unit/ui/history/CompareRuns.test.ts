// The compare view as the server renders it: nothing without runs, a hint with one, and with more
// a key of names and colours, three charts that say how many runs and lines they draw on one
// shared axis, and a settings table whose differing rows stand out. recharts draws no SVG in a
// server render, so the lines themselves are the e2e tests' to count.

import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { COMPARE_COLORS, MAX_COMPARED_RUNS, settingsTable, type ComparedRun } from '../../../../src/history/compare';
import { CompareRuns } from '../../../../src/ui/history/CompareRuns';
import { compared, trainedRun } from '../../history/run-log-fixtures';

function render(runs: readonly ComparedRun[], onRemove?: (id: string) => void): string {
  return renderToStaticMarkup(createElement(CompareRuns, { runs, onRemove }));
}

/** The opening tag of the element with this test id. */
function tag(html: string, testId: string): string {
  const found = html.match(new RegExp(`<[a-z]+[^>]*data-testid="${testId}"[^>]*>`));
  if (!found) throw new Error(`no ${testId}`);
  return found[0];
}

describe('CompareRuns', () => {
  it('renders nothing without runs, and asks for another with one', () => {
    expect(render([])).toBe('');
    const one = render([compared('first', trainedRun())]);
    expect(tag(one, 'compare-runs')).toContain('data-runs="1"');
    expect(one).toContain('Pick another run to compare');
  });

  it('overlays runs of different lengths on one axis from 0 to the longest, a solid line each where it has the figure', () => {
    const html = render([compared('long', trainedRun()), compared('short, no validation', trainedRun({ epochs: 1, validated: false }))]);
    expect(html).not.toContain('Pick another run');
    // Both runs have steps; only the first has validation loss and accuracy.
    expect(tag(html, 'compare-steps')).toMatch(/data-runs="2" data-lines="2" data-x-domain="0,6"/);
    expect(tag(html, 'compare-epoch-loss')).toMatch(/data-runs="2" data-lines="1" data-x-domain="0,2"/);
    expect(tag(html, 'compare-accuracy')).toMatch(/data-runs="2" data-lines="1" data-x-domain="0,2"/);
    expect(html).toContain('validation solid, training dashed');
  });

  it('keys each run by name and colour, with a way to take it out when offered', () => {
    const runs = [compared('a', trainedRun()), compared('b', trainedRun())];
    const html = render(runs, () => undefined);
    const items = [...html.matchAll(/<li data-testid="compare-key-item" data-run-id="([^"]+)" data-color="([^"]+)"><span class="swatch" style="background:([^"]+)"[^>]*><\/span><span class="compare-run-name">([^<]+)</g)];
    expect(items.map((m) => [m[1], m[2], m[3], m[4]])).toEqual([
      ['id-a', COMPARE_COLORS[0], COMPARE_COLORS[0], 'a'],
      ['id-b', COMPARE_COLORS[1], COMPARE_COLORS[1], 'b'],
    ]);
    expect(html.match(/data-testid="compare-remove"/g)).toHaveLength(2);
    expect(html).toContain('aria-label="Stop comparing a"');
    expect(render(runs)).not.toContain('compare-remove');
  });

  it('marks the differing rows of the settings table and each value with its run', () => {
    const runs = [compared('a', trainedRun()), compared('b', trainedRun({ epochs: 1, config: { learningRate: 3e-4 } }))];
    const html = render(runs);
    const table = html.slice(html.indexOf('<table'), html.indexOf('</table>'));
    expect(table).toContain('data-testid="compare-settings"');
    const rowsShown = [...table.matchAll(/<tr data-differs="(true|false)"( class="compare-differs")?><th scope="row">([^<]+)/g)];
    const expected = settingsTable(runs);
    expect(rowsShown.map((m) => [m[3], m[1]])).toEqual(expected.map((r) => [r.label, String(r.differs)]));
    // The class that makes a row stand out goes with, and only with, data-differs="true".
    expect(rowsShown.every((m) => (m[1] === 'true') === (m[2] !== undefined))).toBe(true);
    expect(rowsShown.filter((m) => m[1] === 'true').map((m) => m[3])).toContain('Learning rate (head, peak)');
    // A screen reader hears it too.
    expect(table.match(/<span class="visually-hidden"> \(differs\)<\/span>/g)).toHaveLength(expected.filter((r) => r.differs).length);
    for (const color of COMPARE_COLORS.slice(0, 2)) {
      expect(table.match(new RegExp(`<td class="compare-value" style="border-left-color:${color}">`, 'g'))).toHaveLength(expected.length);
    }
    expect(table).toContain('<th scope="col" class="compare-run-head" style="border-top-color:#0072b2">');
    expect(table).toContain('>1e-3</td><td class="compare-value" style="border-left-color:#d55e00">3e-4</td>');
  });

  it(`compares at most ${MAX_COMPARED_RUNS} runs and says so`, () => {
    const runs = Array.from({ length: MAX_COMPARED_RUNS + 1 }, (_, i) => compared(`run ${i}`, trainedRun()));
    const html = render(runs);
    expect(tag(html, 'compare-runs')).toContain(`data-runs="${MAX_COMPARED_RUNS}"`);
    expect(tag(html, 'compare-steps')).toContain(`data-lines="${MAX_COMPARED_RUNS}"`);
    expect(html).toContain('data-testid="compare-too-many"');
    expect(html).not.toContain(`run ${MAX_COMPARED_RUNS}<`);
  });
});
