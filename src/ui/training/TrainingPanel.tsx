// Fine-tuning: the settings, the run's progress and its live charts.

import { useTrainingThrottled } from '../../state/hooks';
import { formatDuration } from './format';
import { TrainingCharts } from './TrainingCharts';
import { TrainingControls } from './TrainingControls';

function Progress() {
  const { status, run, steps, epochs, message } = useTrainingThrottled();
  if (!run) return status === 'starting' ? <p>Starting…</p> : null;
  const totalSteps = run.stepsPerEpoch * run.settings.config.epochs;
  const recent = steps.slice(-20);
  const msPerStep = recent.reduce((a, s) => a + s.ms, 0) / Math.max(1, recent.length);
  const imagesPerSecond = recent.reduce((a, s) => a + s.batchSize, 0) / Math.max(1e-9, recent.reduce((a, s) => a + s.ms, 0) / 1000);
  const last = steps.at(-1);
  const lastEpoch = epochs.at(-1);
  return (
    <div className="progress-line" data-testid="training-progress" data-status={status} data-steps={steps.length}>
      <strong>{status}</strong> · epoch {(last?.epoch ?? 0) + 1}/{run.settings.config.epochs} · step {steps.length}/{totalSteps}
      {last && ` · loss ${last.loss.toFixed(3)}`}
      {lastEpoch?.validation && ` · validation accuracy ${(lastEpoch.validation.metrics.accuracy * 100).toFixed(1)}%`}
      {steps.length > 0 && ` · ${imagesPerSecond.toFixed(1)} images/s · ${formatDuration((totalSteps - steps.length) * msPerStep)} left (at this speed)`}
      {message && (
        <div className={message.kind === 'error' ? 'error' : 'warning'} role={message.kind === 'error' ? 'alert' : 'status'} data-testid="training-message">
          {message.text}
        </div>
      )}
    </div>
  );
}

export function TrainingPanel() {
  return (
    <section className="card" aria-labelledby="training-heading" data-testid="training-panel">
      <h2 id="training-heading">Fine-tune</h2>
      <TrainingControls />
      <Progress />
      <TrainingCharts />
    </section>
  );
}
