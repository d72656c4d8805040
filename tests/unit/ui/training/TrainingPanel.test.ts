// The progress line of a "train more" run counts that run's own steps and epochs, while the
// charts keep every step of the model.

import { describe, expect, it } from 'vitest';
import { TrainingPanel } from '../../../../src/ui/training/TrainingPanel';
import { fakeLabStore } from '../../state/fake-store';
import { runInfo, stepRecord } from '../../state/fixtures';
import { renderWithStore } from '../render';

describe('TrainingPanel: progress', () => {
  it("counts a continued run's steps and epochs from where it began", () => {
    const { store, worker } = fakeLabStore();
    worker.emit({ type: 'train/started', run: runInfo() });
    // 2 steps per epoch (runInfo): steps 0–3 are epochs 0 and 1.
    for (const n of [0, 1, 2, 3]) worker.emit({ type: 'train/stepEnded', step: stepRecord(n) });
    worker.emit({ type: 'train/finished', status: 'completed', steps: 4 });
    worker.emit({ type: 'train/started', run: runInfo(true) });
    for (const n of [4, 5, 6]) worker.emit({ type: 'train/stepEnded', step: stepRecord(n) });

    const html = renderWithStore(store, TrainingPanel);
    expect(html).toContain('data-testid="training-progress" data-status="running" data-steps="7" data-run-steps="3" data-continued="true"');
    // Step 6 is in epoch 3, the run's second (it began at epoch 2); 5 epochs × 2 steps = 10 steps.
    expect(html).toContain('<strong>running</strong> (more training of the kept model) · epoch 2/5 · step 3/10');
  });
});
