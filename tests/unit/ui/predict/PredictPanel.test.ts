// What the "Try it" panel shows: disabled without a kept model; a row per image with its top-1 as
// attributes, its heat map and its ranking; the table and CSV button for a batch of several.

import { describe, expect, it } from 'vitest';
import { PredictPanel } from '../../../../src/ui/predict/PredictPanel';
import type { WorkerCommand } from '../../../../src/workers/protocol';
import { fakeLabStore } from '../../state/fake-store';
import { imagePrediction } from '../../state/fixtures';
import { renderWithStore } from '../render';

const file = (name: string) => new File([name], name, { type: 'image/png' });

describe('PredictPanel', () => {
  it('is disabled, with its reason, while no model is kept', () => {
    const { store } = fakeLabStore();
    const html = renderWithStore(store, PredictPanel);
    expect(html).toContain('data-testid="predict-disabled"');
    expect(html).toMatch(/<input[^>]*disabled=""[^>]*data-testid="predict-input"/);
    expect(html).toMatch(/<input[^>]*disabled=""[^>]*data-testid="predict-folder-input"/);
    expect(html).toContain('<input type="checkbox" data-testid="heatmap-toggle" checked=""/>');
  });

  it('shows a row per image, the answered ones with top-1, heat map and ranking, and the CSV button once all are answered', () => {
    const { store, actions, worker, keepModel } = fakeLabStore();
    keepModel();
    actions().predict([{ path: 'new/a.png', file: file('a.png') }, { path: 'new/b.png', file: file('b.png') }], true);
    const { requestId } = worker.last() as Extract<WorkerCommand, { type: 'trained/predict' }>;
    worker.emit({ type: 'trained/predicted', prediction: imagePrediction(requestId, 'new/a.png', 'b') });

    let html = renderWithStore(store, PredictPanel);
    expect(html).not.toContain('data-testid="predict-disabled"');
    const rows = html.match(/<li class="prediction"[^>]*>/g) ?? [];
    expect(rows).toEqual([
      '<li class="prediction" data-testid="prediction" data-path="new/a.png" data-status="done" data-top1="b" data-probability="0.875" data-ms="35" data-heatmap-ms="12">',
      '<li class="prediction" data-testid="prediction" data-path="new/b.png" data-status="running">',
    ]);
    // One heat map (the answered image's 2 × 2 grid), stretched over a 640 × 480 image: a 128 × 96 box.
    expect(html.match(/data-testid="heatmap"/g)).toHaveLength(1);
    expect(html).toContain('width="128" height="96" data-testid="heatmap" data-grid="2x2"');
    expect(html).toContain('87.5%');
    expect(html).toContain('data-testid="prediction-table"');
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*data-testid="predictions-csv"/);

    worker.emit({ type: 'trained/predicted', prediction: imagePrediction(requestId, 'new/b.png', 'a') });
    html = renderWithStore(store, PredictPanel);
    expect(html).toMatch(/<button type="button" data-testid="predictions-csv">Download CSV<\/button>/);
  });

  it('shows no table for a single image', () => {
    const { store, actions, keepModel } = fakeLabStore();
    keepModel();
    actions().predict([{ path: 'one.png', file: file('one.png') }], false);
    const html = renderWithStore(store, PredictPanel);
    expect(html.match(/data-testid="prediction"/g)).toHaveLength(1);
    expect(html).not.toContain('data-testid="prediction-table"');
    expect(html).not.toContain('data-testid="predictions-csv"');
  });
});
