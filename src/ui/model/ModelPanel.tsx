// The pretrained ResNet50's status: loading progress, what was loaded, or what went wrong and how
// to load it from files instead.

import type { ChangeEvent } from 'react';
import { useLabActions, useModelStatus, useTrainingStatus } from '../../state/hooks';

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

function PickModelFiles() {
  const { loadModel } = useLabActions();
  const status = useTrainingStatus();
  // The run trains these very weights: replacing them under it would end it.
  const training = status === 'starting' || status === 'running' || status === 'paused';
  const onChange = (event: ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(event.target.files ?? []);
    if (files.length > 0) loadModel({ kind: 'files', files });
    event.target.value = '';
  };
  return (
    <label className="link-button">
      Load your own copy (model.json + weight shards + labels.json)…
      <input type="file" multiple accept=".json,.bin" onChange={onChange} data-testid="model-files-input" hidden disabled={training} />
    </label>
  );
}

export function ModelPanel() {
  const model = useModelStatus();
  return (
    <section className="card" aria-labelledby="model-heading">
      <h2 id="model-heading">Pretrained ResNet50</h2>
      {model.status === 'idle' && <p>Waiting for the backend…</p>}
      {model.status === 'loading' && (
        <div data-testid="model-loading">
          <p>Loading ImageNet weights ({model.from === 'default' ? '103 MB, cached by the browser after the first visit' : 'your files'})…</p>
          <progress max={1} value={model.fraction} aria-label="weights loaded" />
        </div>
      )}
      {model.status === 'ready' && (
        <p data-testid="model-ready" data-load-ms={Math.round(model.info.loadMs)} data-warmup-ms={Math.round(model.info.warmupMs)}>
          Keras ResNet50, ImageNet weights: {model.info.layers} layers, {(model.info.parameters / 1e6).toFixed(1)} M parameters
          {model.from === 'files' ? ' (from your files)' : ''}. Loaded in {formatSeconds(model.info.loadMs)}, first forward pass{' '}
          {formatSeconds(model.info.warmupMs)}.
        </p>
      )}
      {model.status === 'failed' && (
        <div className="error" role="alert" data-testid="model-error">
          <strong>{model.error.code === 'backend/device-lost' ? 'The model is gone.' : 'The model could not be loaded.'}</strong> {model.error.message}
          {model.error.file ? <span className="error-file"> (file: {model.error.file})</span> : null}
        </div>
      )}
      <PickModelFiles />
    </section>
  );
}
