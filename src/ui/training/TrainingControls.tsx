// The run's settings in three groups: what changes a run as it trains (freeze depth, class
// weighting, learning rate), what a run starts with, and advanced settings folded away, each in
// plain words with the technical term in its tooltip; start, train more, pause, resume, stop.

import { classWeights } from '../../core/class-weights';
import { NORMALIZATION_LABELS, NORMALIZATION_MODES, RESIZE_LABELS, RESIZE_RULES, type NormalizationMode, type ResizeRule } from '../../core/preprocess-spec';
import type { LrSchedule } from '../../core/lr-schedule';
import { freezeDepthLabel, MAX_FREEZE_DEPTH, trainableParamsAt, type OptimizerKind } from '../../core/training-config';
import { keptModelInfo } from '../../state/lab-state';
import { useDataset, useKeptModel, useLabActions, useModelStatus, useTrainingSettings, useTrainingStatus } from '../../state/hooks';
import { formatCount } from './format';
import { LearningRateInput, ScheduleChart } from './LearningRate';

const SIZES_PX = [64, 112, 160, 224];

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

  const stepsPerEpoch = Math.max(1, Math.ceil(trainCounts.reduce((a, b) => a + b, 0) / config.batchSize));

  return (
    <div className="controls" data-testid="training-controls">
      <fieldset className="control-group">
        <legend>While it trains</legend>
        <label className="control control-wide" title="Freeze depth k: how many residual blocks, from the top, train with the head; the rest stay frozen">
          <span>
            Layers that learn: <strong data-testid="freeze-label">{freezeDepthLabel(config.freezeDepth)}</strong>
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
            aria-valuetext={freezeDepthLabel(config.freezeDepth)}
            onChange={(event) => updateTraining({ config: { freezeDepth: Number(event.target.value) } })}
          />
          <span className="scale muted" aria-hidden="true">
            <span>head only</span>
            <span>res5</span>
            <span>res4</span>
            <span>res3</span>
            <span>res2</span>
            <span>stem</span>
          </span>
        </label>
        <label className="control" title="Class weighting: each image's loss is weighted n / (C · n_c), so that small classes count as much as large ones">
          <span>Make small classes count as much</span>
          <select
            value={config.classWeighting}
            data-testid="class-weighting"
            onChange={(event) => updateTraining({ config: { classWeighting: event.target.value as 'off' | 'balanced' } })}
          >
            <option value="balanced">yes (balanced class weights)</option>
            <option value="off">no</option>
          </select>
          {classNames.length > 0 && config.classWeighting === 'balanced' && (
            <span className="muted weights" data-testid="class-weights">
              {classNames.map((name, c) => `${name} ${(weights[c] ?? 0).toFixed(2)}`).join(' · ')}
            </span>
          )}
        </label>
        <div className="control" title="The peak learning rate of the new head; the schedule below is what each step uses">
          <label htmlFor="learning-rate-input">Learning rate (peak)</label>
          <LearningRateInput value={config.learningRate} id="learning-rate-input" />
          <ScheduleChart config={config} stepsPerEpoch={stepsPerEpoch} />
        </div>
      </fieldset>
      <fieldset className="control-group">
        <legend>What a run starts with</legend>
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
        <label className="control" title="How an image that is not square becomes the square input">
          <span>Fit into the square</span>
          <select value={resize} disabled={active} data-testid="resize-rule" onChange={(event) => updateTraining({ resize: event.target.value as ResizeRule })}>
            {RESIZE_RULES.map((rule) => (
              <option key={rule} value={rule}>
                {RESIZE_LABELS[rule]}
              </option>
            ))}
          </select>
        </label>
        <label className="control" title="How pixels are scaled for the network: these weights expect 'caffe' (BGR, ImageNet mean subtracted, 0..255)">
          <span>Pixel scaling</span>
          <select value={normalization} disabled={active} data-testid="normalization" onChange={(event) => updateTraining({ normalization: event.target.value as NormalizationMode })}>
            {NORMALIZATION_MODES.map((mode) => (
              <option key={mode} value={mode}>
                {NORMALIZATION_LABELS[mode]}
              </option>
            ))}
          </select>
        </label>
        <label className="control">
          <span>Epochs (passes over the images)</span>
          <input type="number" min={1} max={200} value={config.epochs} disabled={active} data-testid="epochs" onChange={(event) => updateTraining({ config: { epochs: Math.max(1, Number(event.target.value)) } })} />
        </label>
        <label className="control control-check">
          <input type="checkbox" checked={augment} disabled={active} onChange={(event) => updateTraining({ augment: event.target.checked })} data-testid="augment" />
          <span>Vary the training images (random crop and flip; no feature cache)</span>
        </label>
      </fieldset>
      <details className="control-group advanced" data-testid="advanced-settings">
        <summary>Advanced settings</summary>
        <div className="advanced-grid">
          <label className="control" title="BatchNorm policy: inference mode keeps the pretrained statistics in unfrozen blocks; batch statistics lets them drift">
            <span>BatchNorm in unfrozen blocks</span>
            <select value={config.batchNormPolicy} data-testid="batchnorm-policy" onChange={(event) => updateTraining({ config: { batchNormPolicy: event.target.value as 'frozen' | 'train' } })}>
              <option value="frozen">inference mode (recommended)</option>
              <option value="train">batch statistics</option>
            </select>
          </label>
          <label className="control" title="Scale validation images differently from training ones, to see what a mismatch does">
            <span>Validation pixel scaling</span>
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
          <label className="control" title="Batch size: images per optimizer step">
            <span>Images per step</span>
            <input type="number" min={1} max={64} value={config.batchSize} disabled={active} data-testid="batch-size" onChange={(event) => updateTraining({ config: { batchSize: Math.max(1, Number(event.target.value)) } })} />
          </label>
          <label className="control">
            <span>Optimizer</span>
            <select value={config.optimizer} disabled={active} data-testid="optimizer" onChange={(event) => updateTraining({ config: { optimizer: event.target.value as OptimizerKind } })}>
              <option value="adam">Adam</option>
              <option value="sgd">SGD with momentum {config.momentum}</option>
            </select>
          </label>
          <label className="control" title="Learning-rate schedule">
            <span>Learning rate over the run</span>
            <select value={config.schedule} disabled={active} data-testid="schedule" onChange={(event) => updateTraining({ config: { schedule: event.target.value as LrSchedule } })}>
              <option value="warmup-cosine">warm-up, then cosine decay</option>
              <option value="constant">constant</option>
            </select>
          </label>
          <label className="control" title="Backbone learning-rate multiplier: unfrozen blocks learn at the head's rate times this">
            <span>Unfrozen blocks' rate × </span>
            <input type="number" min={0.001} max={10} step="any" value={config.backboneLrMultiplier} disabled={active} data-testid="backbone-lr" onChange={(event) => Number(event.target.value) > 0 && updateTraining({ config: { backboneLrMultiplier: Number(event.target.value) } })} />
          </label>
          <label className="control" title="Dropout before the new dense layer">
            <span>Dropout</span>
            <input type="number" min={0} max={0.9} step={0.05} value={config.dropout} disabled={active} data-testid="dropout" onChange={(event) => { const v = Number(event.target.value); if (v >= 0 && v <= 0.9) updateTraining({ config: { dropout: v } }); }} />
          </label>
          <label className="control" title="Seeds the shuffles, the augmentation and dropout: the same seed gives the same run">
            <span>Seed</span>
            <input type="number" min={0} step={1} value={config.seed} disabled={active} data-testid="seed" onChange={(event) => Number.isInteger(Number(event.target.value)) && updateTraining({ config: { seed: Number(event.target.value) } })} />
          </label>
        </div>
      </details>
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

