// The run's settings: freeze depth and class weighting (live), learning rate and BN policy (live),
// and what a run starts with; start (a new model), train the kept model more, pause, resume, stop.

import { classWeights } from '../../core/class-weights';
import { NORMALIZATION_LABELS, NORMALIZATION_MODES, RESIZE_LABELS, RESIZE_RULES, type NormalizationMode, type ResizeRule } from '../../core/preprocess-spec';
import { freezeDepthLabel, MAX_FREEZE_DEPTH, trainableParamsAt } from '../../core/training-config';
import { keptModelInfo } from '../../state/lab-state';
import { useDataset, useKeptModel, useLabActions, useModelStatus, useTrainingSettings, useTrainingStatus } from '../../state/hooks';
import { formatCount } from './format';

const SIZES_PX = [64, 112, 160, 224];
const LEARNING_RATES = [1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5];

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

export function TrainingControls() {
  // Not useTraining(): the controls must not render again at every step.
  const status = useTrainingStatus();
  const model = useModelStatus();
  const dataset = useDataset();
  const kept = keptModelInfo(useKeptModel());
  const { updateTraining, startTraining, trainMore, pauseTraining, resumeTraining, stopTraining } = useLabActions();
  const { config, sizePx, resize, augment, normalization, validationNormalization } = useTrainingSettings();
  const active = status === 'running' || status === 'paused' || status === 'starting';
  const scan = dataset.status === 'ready' ? dataset.scan : null;
  const classNames = dataset.status === 'ready' ? dataset.summary.classNames : [];
  const trainCounts = scan?.counts.train ?? [];
  const weights = classWeights(trainCounts, 'balanced');
  const canStart = model.status === 'ready' && scan !== null && scan.decoded > 0 && classNames.length >= 2 && !active;
  // The kept model's head has one output per class, in this order: more training needs the same classes.
  const classesMatch = kept !== null && sameNames(kept.classNames, classNames);
  const trainable = model.status === 'ready' && classNames.length > 0 ? trainableParamsAt(config.freezeDepth, model.info.segmentParams, classNames.length) : null;

  return (
    <div className="controls" data-testid="training-controls">
      <label className="control control-wide">
        <span>
          Freeze depth: <strong data-testid="freeze-label">{freezeDepthLabel(config.freezeDepth)}</strong>
          {trainable !== null && (
            <span className="muted" data-testid="trainable-params">
              {' '}
              · {formatCount(trainable)} trainable parameters
            </span>
          )}
        </span>
        <input
          type="range"
          min={0}
          max={MAX_FREEZE_DEPTH}
          step={1}
          value={config.freezeDepth}
          data-testid="freeze-depth"
          onChange={(event) => updateTraining({ config: { freezeDepth: Number(event.target.value) } })}
        />
        <span className="scale muted">
          <span>head only</span>
          <span>res5</span>
          <span>res4</span>
          <span>res3</span>
          <span>res2</span>
          <span>stem</span>
        </span>
      </label>
      <label className="control">
        <span>Class weighting</span>
        <select
          value={config.classWeighting}
          data-testid="class-weighting"
          onChange={(event) => updateTraining({ config: { classWeighting: event.target.value as 'off' | 'balanced' } })}
        >
          <option value="balanced">balanced (n / (C · n_c))</option>
          <option value="off">off</option>
        </select>
        {classNames.length > 0 && config.classWeighting === 'balanced' && (
          <span className="muted weights" data-testid="class-weights">
            {classNames.map((name, c) => `${name} ${(weights[c] ?? 0).toFixed(2)}`).join(' · ')}
          </span>
        )}
      </label>
      <label className="control">
        <span>Learning rate</span>
        <select value={config.learningRate} data-testid="learning-rate" onChange={(event) => updateTraining({ config: { learningRate: Number(event.target.value) } })}>
          {LEARNING_RATES.map((lr) => (
            <option key={lr} value={lr}>
              {lr.toExponential(0)}
            </option>
          ))}
        </select>
      </label>
      <label className="control">
        <span>BatchNorm in unfrozen blocks</span>
        <select value={config.batchNormPolicy} onChange={(event) => updateTraining({ config: { batchNormPolicy: event.target.value as 'frozen' | 'train' } })}>
          <option value="frozen">inference mode (recommended)</option>
          <option value="train">batch statistics</option>
        </select>
      </label>
      <label className="control">
        <span>Image size</span>
        <select value={sizePx} disabled={active} data-testid="image-size" onChange={(event) => updateTraining({ sizePx: Number(event.target.value) })}>
          {SIZES_PX.map((size) => (
            <option key={size} value={size}>
              {size} px{size === 224 ? ' (ImageNet)' : ''}
            </option>
          ))}
        </select>
      </label>
      <label className="control">
        <span>Fit into the square</span>
        <select value={resize} disabled={active} data-testid="resize-rule" onChange={(event) => updateTraining({ resize: event.target.value as ResizeRule })}>
          {RESIZE_RULES.map((rule) => (
            <option key={rule} value={rule}>
              {RESIZE_LABELS[rule]}
            </option>
          ))}
        </select>
      </label>
      <label className="control">
        <span>Preprocessing</span>
        <select value={normalization} disabled={active} data-testid="normalization" onChange={(event) => updateTraining({ normalization: event.target.value as NormalizationMode })}>
          {NORMALIZATION_MODES.map((mode) => (
            <option key={mode} value={mode}>
              {NORMALIZATION_LABELS[mode]}
            </option>
          ))}
        </select>
      </label>
      <label className="control">
        <span>Validation preprocessing</span>
        <select
          value={validationNormalization ?? 'same'}
          disabled={active}
          data-testid="validation-normalization"
          onChange={(event) => updateTraining({ validationNormalization: event.target.value === 'same' ? null : (event.target.value as NormalizationMode) })}
        >
          <option value="same">same as training</option>
          {NORMALIZATION_MODES.map((mode) => (
            <option key={mode} value={mode}>
              {mode} (reproduce a mismatch)
            </option>
          ))}
        </select>
      </label>
      <label className="control">
        <span>Batch size</span>
        <input type="number" min={1} max={64} value={config.batchSize} disabled={active} data-testid="batch-size" onChange={(event) => updateTraining({ config: { batchSize: Math.max(1, Number(event.target.value)) } })} />
      </label>
      <label className="control">
        <span>Epochs</span>
        <input type="number" min={1} max={200} value={config.epochs} disabled={active} data-testid="epochs" onChange={(event) => updateTraining({ config: { epochs: Math.max(1, Number(event.target.value)) } })} />
      </label>
      <label className="control control-check">
        <input type="checkbox" checked={augment} disabled={active} onChange={(event) => updateTraining({ augment: event.target.checked })} />
        <span>Augment training images (random crop, flip; no feature cache)</span>
      </label>
      <div className="control-buttons">
        {!active && (
          <button
            type="button"
            className="button"
            disabled={!canStart}
            onClick={startTraining}
            data-testid="train-start"
            title={kept ? 'A new model from the pretrained weights: the kept model is discarded (export it first to keep it).' : undefined}
          >
            Start fine-tuning
          </button>
        )}
        {!active && kept && (
          <button
            type="button"
            disabled={!canStart || !classesMatch}
            onClick={trainMore}
            data-testid="train-more"
            title={classesMatch ? `${config.epochs} more epoch${config.epochs === 1 ? '' : 's'} of the kept model, with these settings` : "The dataset's classes are not the kept model's"}
          >
            Train more
          </button>
        )}
        {status === 'running' && (
          <button type="button" onClick={pauseTraining} data-testid="train-pause">
            Pause
          </button>
        )}
        {status === 'paused' && (
          <button type="button" onClick={resumeTraining} data-testid="train-resume">
            Resume
          </button>
        )}
        {active && (
          <button type="button" onClick={stopTraining} data-testid="train-stop">
            Stop
          </button>
        )}
        {!canStart && !active && (
          <span className="muted">{model.status !== 'ready' ? 'waiting for the model…' : 'drop a folder with at least two classes first'}</span>
        )}
        {canStart && kept && !classesMatch && <span className="muted">train more needs a dataset with the kept model's classes ({kept.classNames.join(', ')})</span>}
      </div>
    </div>
  );
}

