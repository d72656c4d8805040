// What the Runs panel shows of each stored run: its summary and actions, a kept model, and the
// Resume offer of a run that did not end: after a reload, or in this tab once its worker crashed,
// never while this tab still trains it.

import { describe, expect, it } from 'vitest';
import { summarizeRun, type StoredRunSummary } from '../../../../src/history/run-store';
import { INITIAL_HISTORY_STATE } from '../../../../src/state/lab-state';
import { RunHistoryPanel } from '../../../../src/ui/history/RunHistoryPanel';
import { fakeLabStore } from '../../state/fake-store';
import { runInfo, runLog } from '../../state/fixtures';
import { renderWithStore } from '../render';

function listed(overrides: Partial<StoredRunSummary> = {}): StoredRunSummary {
  return {
    kind: 'run',
    id: 'run-1',
    version: 1,
    name: 'd · 2026-12-02 10:00',
    createdAt: '2026-12-02T10:00:00.000Z',
    updatedAt: '2026-12-02T10:05:00.000Z',
    summary: summarizeRun(runLog(2)),
    resumable: { epoch: 2, step: 4, sizeBytes: 16_000, savedAt: '2026-12-02T10:05:00.000Z' },
    ...overrides,
  };
}

function panel(run: StoredRunSummary, { current = false, training = 'idle' as 'idle' | 'running' | 'failed', modelReady = true } = {}) {
  const { store, worker } = fakeLabStore();
  if (modelReady) worker.emit({ type: 'model/loaded', model: { layers: 177, parameters: 25_636_712, weightBytes: 102_000_000, hasLabels: true, loadMs: 1, warmupMs: 1, segmentParams: { stem: 9_536, blocks: [] } } });
  if (training !== 'idle') worker.emit({ type: 'train/started', run: runInfo() });
  if (training === 'failed') worker.emit({ type: 'worker/died', error: { code: 'worker/died', message: 'The training worker crashed.' } });
  store.setState({ history: { ...INITIAL_HISTORY_STATE, status: 'ready', runs: [run], currentId: current ? run.id : null } });
  return renderWithStore(store, RunHistoryPanel);
}

describe('RunHistoryPanel', () => {
  it('lists a run with its dataset, settings, best figures and actions', () => {
    const html = panel(listed({ summary: summarizeRun(runLog(2, 'completed')), resumable: undefined, model: { fileName: 'd.zip', sizeBytes: 94_400_000, savedAt: '2026-12-02T10:06:00.000Z' } }));
    expect(html).toContain('data-testid="run-item" data-run-id="run-1" data-status="completed"');
    expect(html).toContain('data-model="kept"');
    expect(html).toContain('d: 2 classes, 10 images');
    expect(html).toContain('best validation accuracy <span data-testid="run-best-accuracy">50.0%</span>');
    for (const id of ['open-run', 'compare-run', 'export-stored-run', 'delete-run', 'rename-run', 'load-stored-model']) expect(html).toContain(`data-testid="${id}"`);
    expect(html).toContain('Load its model (94.4 MB)');
    expect(html).not.toContain('data-testid="resume-run"');
  });

  it('offers to resume a run cut off by a reload, once the model is loaded and its folder is open', () => {
    expect(panel(listed(), { modelReady: false })).toContain('The pretrained model is still loading.');
    const html = panel(listed());
    expect(html).toContain('Resume after epoch 2');
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*data-testid="resume-run"/);
    expect(html).toContain('Open d again to resume.');
  });

  it('offers it in this tab once its worker crashed, not while it trains', () => {
    expect(panel(listed(), { current: true, training: 'running' })).not.toContain('data-testid="resume-run"');
    expect(panel(listed(), { current: true, training: 'failed' })).toContain('data-testid="resume-run"');
  });
});
