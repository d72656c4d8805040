// "Try it": the kept model on new images, picked, taken from a folder or dropped, each with its
// top classes and, when asked for, a heat map of where the model looked.

import { useState, type ChangeEvent, type DragEvent } from 'react';
import { keptModelInfo } from '../../state/lab-state';
import { useKeptModel, useLabActions, usePredictions } from '../../state/hooks';
import { BatchResults } from './BatchResults';

function filesOf(event: ChangeEvent<HTMLInputElement>, pathOf: (file: File) => string) {
  const files = Array.from(event.target.files ?? [], (file) => ({ path: pathOf(file), file }));
  event.target.value = '';
  return files;
}

/** Why the panel is disabled, in one line. */
function Explanation({ importing }: { importing: string | null }) {
  return (
    <p className="muted" data-testid="predict-disabled">
      {importing ? `Importing ${importing}…` : 'Fine-tune a model above, or import one (.zip, or drop it here), to try it on new images.'}
    </p>
  );
}

export function PredictPanel() {
  const kept = useKeptModel();
  const { batches, message } = usePredictions();
  const { predict, predictDrop } = useLabActions();
  // Decides what the next pick asks for and whether the maps already computed are drawn.
  const [heatMaps, setHeatMaps] = useState(true);
  const [over, setOver] = useState(false);
  const model = keptModelInfo(kept);
  const ready = model !== null;

  const onDrop = (event: DragEvent<HTMLElement>) => {
    // Always prevented: a file dropped and not taken would make the browser leave the page for it.
    event.preventDefault();
    setOver(false);
    predictDrop(event.dataTransfer, heatMaps);
  };

  return (
    <section
      className={`card${over && ready ? ' dropzone-over' : ''}`}
      aria-labelledby="predict-heading"
      data-testid="predict-panel"
      data-ready={ready}
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <h2 id="predict-heading">
        <span className="step-number">4</span> Try it
      </h2>
      {ready ? (
        <p className="muted">
          The kept model ({model.classNames.length} classes, {model.steps} steps) on images it has not seen. Nothing is uploaded.
        </p>
      ) : (
        <Explanation importing={kept.status === 'importing' ? kept.fileName : null} />
      )}
      <div className="dropzone" aria-disabled={!ready}>
        <label className="button">
          Choose images…
          <input
            type="file"
            accept="image/*"
            multiple
            hidden
            disabled={!ready}
            data-testid="predict-input"
            onChange={(event) => predict(filesOf(event, (file) => file.name), heatMaps)}
          />
        </label>
        <label className="button">
          Choose a folder…
          <input
            type="file"
            multiple
            hidden
            disabled={!ready}
            data-testid="predict-folder-input"
            // React does not know these attributes; browsers need them to pick a folder.
            {...{ webkitdirectory: '', directory: '' }}
            onChange={(event) => predict(filesOf(event, (file) => file.webkitRelativePath || file.name), heatMaps)}
          />
        </label>
        <span className="muted">{ready ? 'or drop images or folders on this panel' : ''}</span>
      </div>
      <label className="field">
        <input type="checkbox" checked={heatMaps} onChange={(event) => setHeatMaps(event.target.checked)} data-testid="heatmap-toggle" /> Heat maps: where the model
        looked for its top class (Grad-CAM)
      </label>
      {message && (
        <p className="warning" role="status" data-testid="predict-message">
          {message}
        </p>
      )}
      {batches.map((batch) => (
        <BatchResults key={batch.requestId} batch={batch} showHeatMaps={heatMaps} />
      ))}
    </section>
  );
}
