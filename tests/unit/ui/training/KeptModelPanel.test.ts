// What the training panel shows of the kept model: its summary, exports with their states, the
// import input, and nothing of it while a run goes on.

import { describe, expect, it } from 'vitest';
import { KeptModelPanel } from '../../../../src/ui/training/KeptModelPanel';
import { fakeLabStore } from '../../state/fake-store';
import { runInfo } from '../../state/fixtures';
import { renderWithStore } from '../render';

describe('KeptModelPanel', () => {
  it('offers only the import while no model is kept', () => {
    const { store } = fakeLabStore();
    const html = renderWithStore(store, KeptModelPanel);
    expect(html).toContain('Import a model (.zip)');
    expect(html).toContain('data-testid="import-model-input"');
    expect(html).not.toContain('data-testid="trained-model"');
    expect(html).not.toContain('data-testid="export-tfjs"');
  });

  it("summarises the kept model and shows each export's state", () => {
    const { store, actions, worker, keepModel } = fakeLabStore();
    keepModel({ steps: 12, epochs: 3, trainedSegments: ['res5c', 'res5b'] });
    actions().exportModel('run');
    worker.emit({ type: 'trained/exported', file: { format: 'tfjs', fileName: 'model.zip', bytes: new Uint8Array(2_500), ms: 340 } });
    const html = renderWithStore(store, KeptModelPanel);
    expect(html).toContain('data-testid="trained-model" data-origin="run" data-steps="12" data-epochs="3" data-classes="2"');
    expect(html).toContain('the head and res5c, res5b');
    expect(html).toContain('data-testid="export-status-tfjs" data-status="done" data-size-bytes="2500">saved model.zip (2.5 kB, 340 ms)');
    expect(html).toContain('data-testid="export-status-run" data-status="running"');
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*data-testid="export-run"/);
    expect(html).toContain('data-testid="discard-model"');
  });

  it('shows a failed import beside the model that stays', () => {
    const { store, actions, worker, keepModel } = fakeLabStore();
    keepModel();
    actions().importModel(new File(['x'], 'bad.zip'));
    worker.emit({ type: 'trained/importFailed', fileName: 'bad.zip', error: { code: 'model/invalid', message: 'no model.json in it' } });
    const html = renderWithStore(store, KeptModelPanel);
    expect(html).toContain('data-testid="trained-model"');
    expect(html).toContain('bad.zip could not be imported (the kept model stays): no model.json in it');
  });

  it('is hidden while a run trains', () => {
    const { store, worker, keepModel } = fakeLabStore();
    keepModel();
    worker.emit({ type: 'train/started', run: runInfo(true) });
    expect(renderWithStore(store, KeptModelPanel)).toBe('');
  });
});
