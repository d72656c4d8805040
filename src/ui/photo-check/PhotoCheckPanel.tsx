// "Does the pretrained network see my images?": classify a photo with the ImageNet head before
// fine-tuning anything. With the wrong preprocessing every photo turns into the same near-uniform
// guess, which is the quickest way to see that bug.

import { useEffect, useRef, useState, type ChangeEvent, type DragEvent } from 'react';
import { NORMALIZATION_LABELS, NORMALIZATION_MODES, type NormalizationMode } from '../../core/preprocess-spec';
import type { PhotoCheck } from '../../state/lab-state';
import { useLabActions, useModelStatus, usePhotoChecks } from '../../state/hooks';

function CheckResult({ check, previewUrl }: { check: PhotoCheck; previewUrl: string | undefined }) {
  return (
    <li className="check" data-testid="photo-check" data-status={check.status}>
      {previewUrl ? <img className="check-thumb" src={previewUrl} alt="" /> : <div className="check-thumb" />}
      <div className="check-body">
        <div className="check-title">{check.fileName}</div>
        {check.status === 'running' && <div className="muted">classifying…</div>}
        {check.status === 'failed' && (
          <div className="error" role="alert">
            {check.error.message}
          </div>
        )}
        {check.status === 'done' && (
          <>
            <ol className="ranking" data-testid="photo-ranking">
              {check.result.top.map((entry) => (
                <li key={entry.index} data-class-index={entry.index}>
                  <span className="ranking-label">{entry.label}</span>
                  <span className="ranking-bar" style={{ width: `${Math.max(1, entry.probability * 100)}%` }} />
                  <span className="ranking-value">{(entry.probability * 100).toFixed(1)}%</span>
                </li>
              ))}
            </ol>
            <div className="muted" data-testid="photo-timing">
              {check.result.width}×{check.result.height} px · {check.result.normalization} · preprocess {check.result.preprocessMs.toFixed(0)} ms ·
              forward <span data-testid="forward-ms">{check.result.forwardMs.toFixed(0)}</span> ms
            </div>
          </>
        )}
      </div>
    </li>
  );
}

export function PhotoCheckPanel() {
  const model = useModelStatus();
  const checks = usePhotoChecks();
  const { checkPhoto } = useLabActions();
  const [mode, setMode] = useState<NormalizationMode>('caffe');
  const [previews, setPreviews] = useState<Map<string, string>>(new Map());
  const previewsRef = useRef(previews);
  useEffect(() => {
    previewsRef.current = previews;
  }, [previews]);
  useEffect(() => () => previewsRef.current.forEach((url) => URL.revokeObjectURL(url)), []);

  const submit = (files: File[]) => {
    const images = files.filter((file) => file.type.startsWith('image/') || /\.(jpe?g|png|webp|gif|bmp)$/i.test(file.name));
    setPreviews((current) => {
      const next = new Map(current);
      for (const file of images) if (!next.has(file.name)) next.set(file.name, URL.createObjectURL(file));
      return next;
    });
    for (const file of images) checkPhoto(file, mode);
  };
  const onPick = (event: ChangeEvent<HTMLInputElement>) => {
    submit(Array.from(event.target.files ?? []));
    event.target.value = '';
  };
  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    submit(Array.from(event.dataTransfer.files));
  };
  const ready = model.status === 'ready';

  return (
    <section className="card" aria-labelledby="photo-heading">
      <h2 id="photo-heading">Check the pretrained network on a photo</h2>
      <p className="muted">
        Before fine-tuning, see what the ImageNet weights make of a picture. A cat should come out as a cat with high
        confidence; if every photo becomes the same low-confidence guess, the preprocessing is wrong.
      </p>
      <label className="field">
        Preprocessing{' '}
        <select value={mode} onChange={(event) => setMode(event.target.value as NormalizationMode)} data-testid="normalization-select">
          {NORMALIZATION_MODES.map((m) => (
            <option key={m} value={m}>
              {NORMALIZATION_LABELS[m]}
            </option>
          ))}
        </select>
      </label>
      <div className="dropzone" onDragOver={(event) => event.preventDefault()} onDrop={onDrop} aria-disabled={!ready}>
        <label className="button">
          Choose photos…
          <input type="file" accept="image/*" multiple onChange={onPick} disabled={!ready} data-testid="photo-input" hidden />
        </label>
        <span className="muted">{ready ? 'or drop them here' : 'available once the model is loaded'}</span>
      </div>
      <ul className="checks">
        {checks.map((check) => (
          <CheckResult key={check.requestId} check={check} previewUrl={previews.get(check.fileName)} />
        ))}
      </ul>
    </section>
  );
}
