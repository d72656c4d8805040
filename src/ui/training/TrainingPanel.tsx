// Fine-tuning: the settings and the run's progress (TrainingPanel), its live charts and the model it
// keeps (TrainingResults).

import { freezeDepthLabel } from '../../core/training-config';
import type { StepRecord } from '../../state/lab-state';
import { useTrainingMessage, useTrainingStatus, useTrainingThrottled } from '../../state/hooks';
import { formatCount, formatDuration } from './format';
import { KeptModelPanel } from './KeptModelPanel';
import { TrainingCharts } from './TrainingCharts';
import { TrainingControls } from './TrainingControls';

/** What the worker reports the last step trained with: the proof that a mid-run change took effect. */
function InUse({ step, classNames }: { step: StepRecord; classNames: string[] }) {
  const uniform = step.classWeights.every((w) => w === step.classWeights[0]);
  return (
    <div className="muted in-use" data-testid="in-use">
      Step {step.step + 1} trained{' '}
      <span data-testid="in-use-depth">
        {freezeDepthLabel(step.freezeDepth)}, {formatCount(step.trainableParams)} parameters
      </span>
      , with loss weights{' '}
      <span data-testid="in-use-weights">{uniform ? `${step.classWeights[0]?.toFixed(2)} for every class` : step.classWeights.map((w, c) => `${classNames[c]} ${w.toFixed(2)}`).join(' · ')}</span>
      , learning rate {step.learningRate.toExponential(1)}, {step.batchSize} image{step.batchSize === 1 ? '' : 's'}.
    </div>
  );
}

function Message({ message }: { message: { kind: 'error' | 'warning'; text: string } }) {
  return (
    <div className={message.kind === 'error' ? 'error' : 'warning'} role={message.kind === 'error' ? 'alert' : 'status'} data-testid="training-message">
      {message.text}
    </div>
  );
}

function Progress() {
  // Steps and epochs as the charts show them; status and message as they are now.
  const { run, steps: chartSteps, epochs, runStart } = useTrainingThrottled();
  const status = useTrainingStatus();
  const message = useTrainingMessage();
  if (!run) {
    // (running, too: the run's details reach this view up to 200 ms after its status)
    if (status === 'starting' || status === 'running') return <p>Starting…</p>;
    return message ? <Message message={message} /> : null;
  }
  // This run's own steps: a "train more" run counts from where it began, its charts from the model's first step.
  const steps = chartSteps.slice(runStart.steps);
  const firstEpoch = steps[0]?.epoch ?? 0;
  const totalSteps = run.stepsPerEpoch * run.settings.config.epochs;
  const recent = steps.slice(-20);
  const imagesPerSecond = recent.reduce((a, s) => a + s.batchSize, 0) / Math.max(1e-9, recent.reduce((a, s) => a + s.ms, 0) / 1000);
  const last = steps.at(-1);
  const lastEpoch = epochs.at(-1);
  const left = timeLeft(steps, run.stepsPerEpoch, totalSteps);
  // After the run's first epoch the frozen layers' outputs come from the feature cache (when it holds them).
  const cached = last !== undefined && last.epoch > firstEpoch && (lastEpoch?.cache.entries ?? 0) > 0 && !run.settings.augment;
  return (
    <div className="progress-line" data-testid="training-progress" data-status={status} data-steps={chartSteps.length} data-run-steps={steps.length} data-continued={run.continued}>
      <strong>{status}</strong>
      {run.continued && ' (more training of the kept model)'} · epoch {(last ? last.epoch - firstEpoch : 0) + 1}/{run.settings.config.epochs} · step{' '}
      {steps.length}/{totalSteps}
      {last && ` · loss ${last.loss.toFixed(3)}`}
      {lastEpoch?.validation && ` · validation accuracy ${(lastEpoch.validation.metrics.accuracy * 100).toFixed(1)}% (on ${lastEpoch.validation.metrics.count} images)`}
      {steps.length > 0 && (
        <span data-testid="speed" data-cached={cached}>
          {' '}
          · {imagesPerSecond.toFixed(1)} images/s{cached ? ' (frozen layers from the cache)' : ''}
        </span>
      )}
      {left !== null && (status === 'running' || status === 'paused') && (
        <span data-testid="time-left">
          {' '}
          · {formatDuration(left.ms)} left{left.firstEpochOnly ? ' (at the first epoch’s speed: later epochs read cached features and may be faster)' : ''}
        </span>
      )}
      {last && <InUse step={last} classNames={run.classNames} />}
      {message && <Message message={message} />}
    </div>
  );
}

/**
 * Time left, from the epochs' own costs: what remains of this epoch at its own speed, then each
 * remaining epoch at the mean cost of the epochs after the first (the first also fills the
 * feature cache, so it is the slow one). Within the first epoch only its own speed is known.
 */
export function timeLeft(steps: readonly StepRecord[], stepsPerEpoch: number, totalSteps: number): { ms: number; firstEpochOnly: boolean } | null {
  const last = steps.at(-1);
  if (!last) return null;
  const firstEpoch = steps[0]!.epoch;
  const msPerStepOf = (epoch: number) => {
    const mine = steps.filter((s) => s.epoch === epoch);
    return mine.reduce((a, s) => a + s.ms, 0) / Math.max(1, mine.length);
  };
  const inThisEpoch = steps.filter((s) => s.epoch === last.epoch).length;
  const remainingHere = Math.max(0, stepsPerEpoch - inThisEpoch);
  const remainingEpochs = Math.max(0, Math.ceil((totalSteps - steps.length - remainingHere) / stepsPerEpoch));
  const later = [...new Set(steps.map((s) => s.epoch))].filter((e) => e > firstEpoch);
  const laterMsPerStep = later.length > 0 ? later.reduce((a, e) => a + msPerStepOf(e), 0) / later.length : msPerStepOf(firstEpoch);
  return { ms: remainingHere * msPerStepOf(last.epoch) + remainingEpochs * stepsPerEpoch * laterMsPerStep, firstEpochOnly: later.length === 0 && remainingEpochs > 0 };
}

/** The settings and the run's progress: the side of the workbench that stays in view. */
export function TrainingPanel() {
  return (
    <section className="card" aria-labelledby="training-heading" data-testid="training-panel">
      <h2 id="training-heading">
        <span className="step-number">3</span> Train
      </h2>
      <TrainingControls />
      <Progress />
    </section>
  );
}

/** What a run shows: its live charts, then the model it keeps (which must not push the charts down as it appears). */
export function TrainingResults() {
  return (
    <div className="training-results" data-testid="training-results">
      <TrainingCharts />
      <KeptModelPanel />
    </div>
  );
}
