// Fine-tuning: the settings, the run's progress, the model it keeps and its live charts.

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
  const msPerStep = recent.reduce((a, s) => a + s.ms, 0) / Math.max(1, recent.length);
  const imagesPerSecond = recent.reduce((a, s) => a + s.batchSize, 0) / Math.max(1e-9, recent.reduce((a, s) => a + s.ms, 0) / 1000);
  const last = steps.at(-1);
  const lastEpoch = epochs.at(-1);
  return (
    <div className="progress-line" data-testid="training-progress" data-status={status} data-steps={chartSteps.length} data-run-steps={steps.length} data-continued={run.continued}>
      <strong>{status}</strong>
      {run.continued && ' (more training of the kept model)'} · epoch {(last ? last.epoch - firstEpoch : 0) + 1}/{run.settings.config.epochs} · step{' '}
      {steps.length}/{totalSteps}
      {last && ` · loss ${last.loss.toFixed(3)}`}
      {lastEpoch?.validation && ` · validation accuracy ${(lastEpoch.validation.metrics.accuracy * 100).toFixed(1)}% (on ${lastEpoch.validation.metrics.count} images)`}
      {steps.length > 0 && ` · ${imagesPerSecond.toFixed(1)} images/s`}
      {steps.length > 0 && (status === 'running' || status === 'paused') && ` · ${formatDuration((totalSteps - steps.length) * msPerStep)} left (at this speed)`}
      {last && <InUse step={last} classNames={run.classNames} />}
      {message && <Message message={message} />}
    </div>
  );
}

export function TrainingPanel() {
  return (
    <section className="card" aria-labelledby="training-heading" data-testid="training-panel">
      <h2 id="training-heading">Fine-tune</h2>
      <TrainingControls />
      <Progress />
      {/* Below the charts: the kept model appears as a run ends, and must not push the charts down then. */}
      <TrainingCharts />
      <KeptModelPanel />
    </section>
  );
}
