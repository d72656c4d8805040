// "Train more" beside "Start fine-tuning": there only with a kept model, usable only with a
// dataset of the kept model's classes.

import { describe, expect, it } from 'vitest';
import { TrainingControls } from '../../../../src/ui/training/TrainingControls';
import type { DatasetScan, DatasetSummary, ModelInfo } from '../../../../src/workers/protocol';
import { fakeLabStore } from '../../state/fake-store';
import { renderWithStore } from '../render';

const counts = { train: [4, 4], validation: [1, 1], test: [0, 0] };

function readyToTrain(classNames: string[]) {
  const lab = fakeLabStore();
  const model: ModelInfo = { layers: 177, parameters: 25_636_712, weightBytes: 1, hasLabels: true, loadMs: 1, warmupMs: 1, segmentParams: { stem: 9_536, blocks: [] } };
  const dataset: DatasetSummary = { rootName: 'd', classNames, splitSource: 'stratified', splitOptions: { seed: 1, validationFraction: 0.2 }, counts, issues: [], trainable: true, imageCount: 10 };
  const scan: DatasetScan = {
    decoded: 10,
    widths: { min: 8, median: 8, max: 8 },
    heights: { min: 8, median: 8, max: 8 },
    grayCount: 0,
    alphaCount: 0,
    downscaledCount: 0,
    formats: { png: 10 },
    thumbnails: [],
    failures: [],
    counts,
    ms: 5,
  };
  lab.worker.emit({ type: 'model/loaded', model });
  lab.worker.emit({ type: 'dataset/indexed', dataset });
  lab.worker.emit({ type: 'dataset/scanned', scan });
  return lab;
}

const trainMoreButton = (html: string) => html.match(/<button[^>]*data-testid="train-more"[^>]*>/)?.[0];

describe('TrainingControls: train more', () => {
  it('is not offered without a kept model', () => {
    const { store } = readyToTrain(['a', 'b']);
    expect(trainMoreButton(renderWithStore(store, TrainingControls))).toBeUndefined();
  });

  it("is enabled for a dataset with the kept model's classes", () => {
    const { store, keepModel } = readyToTrain(['a', 'b']);
    keepModel({ classNames: ['a', 'b'] });
    const button = trainMoreButton(renderWithStore(store, TrainingControls));
    expect(button).toBeDefined();
    expect(button).not.toContain('disabled');
  });

  it('is disabled, and says why, for a dataset of other classes', () => {
    const { store, keepModel } = readyToTrain(['a', 'b']);
    keepModel({ classNames: ['cat', 'dog'] });
    const html = renderWithStore(store, TrainingControls);
    expect(trainMoreButton(html)).toContain('disabled=""');
    expect(html).toContain("train more needs a dataset with the kept model&#x27;s classes (cat, dog)");
  });
});
