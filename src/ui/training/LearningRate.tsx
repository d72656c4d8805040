// The learning rate as a typed number (any positive value, with common presets), and a small
// chart of the schedule the steps really use, with the current step on it.

import { useState } from 'react';
import { learningRateAt } from '../../core/lr-schedule';
import type { TrainingConfig } from '../../core/training-config';
import { useLabActions, useTrainingThrottled } from '../../state/hooks';

const PRESETS = [1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5];
const WIDTH = 180;
const HEIGHT = 44;
const SAMPLES = 60;

/** A positive finite number from what was typed ('3e-4', '0.0003'), or null. */
export function parseLearningRate(text: string): number | null {
  const value = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(value) && value > 0 ? value : null;
}

export function LearningRateInput({ value, id }: { value: number; id: string }) {
  const { updateTraining } = useLabActions();
  // What is typed stays as typed until it is a valid rate; the store gets only valid ones.
  const [draft, setDraft] = useState<string | null>(null);
  const text = draft ?? String(value);
  const invalid = draft !== null && parseLearningRate(draft) === null;
  return (
    <>
      <input
        id={id}
        type="text"
        inputMode="decimal"
        list="learning-rate-presets"
        value={text}
        aria-invalid={invalid}
        aria-describedby={invalid ? 'learning-rate-error' : undefined}
        data-testid="learning-rate"
        onChange={(event) => {
          const parsed = parseLearningRate(event.target.value);
          setDraft(event.target.value);
          if (parsed !== null) updateTraining({ config: { learningRate: parsed } });
        }}
        onBlur={() => setDraft(null)}
      />
      <datalist id="learning-rate-presets">
        {PRESETS.map((lr) => (
          <option key={lr} value={String(lr)} />
        ))}
      </datalist>
      {invalid && (
        <span className="field-error" id="learning-rate-error" role="alert">
          a positive number, e.g. 1e-3
        </span>
      )}
    </>
  );
}

/** The schedule of the run in progress (or of the next one), and where the run is on it. */
export function ScheduleChart({ config, stepsPerEpoch }: { config: TrainingConfig; stepsPerEpoch: number }) {
  const training = useTrainingThrottled();
  const run = training.run;
  const perEpoch = run?.stepsPerEpoch ?? stepsPerEpoch;
  // A run (or train more) schedules over the steps before it plus its own.
  const firstStep = run ? training.runStart.steps : 0;
  const total = Math.max(1, firstStep + perEpoch * (run?.settings.config.epochs ?? config.epochs));
  const schedule = { schedule: run?.settings.config.schedule ?? config.schedule, learningRate: config.learningRate, warmupSteps: config.warmupSteps, totalSteps: total };
  const points = Array.from({ length: SAMPLES + 1 }, (_, i) => {
    const step = Math.round((i / SAMPLES) * (total - 1));
    return [step, learningRateAt(step, schedule)] as const;
  });
  const x = (step: number) => (step / Math.max(1, total - 1)) * WIDTH;
  const y = (lr: number) => HEIGHT - 2 - (lr / config.learningRate) * (HEIGHT - 4);
  const last = training.steps.at(-1);
  const backbone = config.learningRate * config.backboneLrMultiplier;
  return (
    <figure className="schedule" data-testid="lr-schedule" data-total-steps={total}>
      <svg width={WIDTH} height={HEIGHT} role="img" aria-label={`Learning rate over ${total} steps: ${schedule.schedule === 'constant' ? 'constant' : `warm-up over ${config.warmupSteps} steps, then a cosine decay to 0`}`}>
        <polyline points={points.map(([s, lr]) => `${x(s).toFixed(1)},${y(lr).toFixed(1)}`).join(' ')} fill="none" stroke="#2f6fde" strokeWidth="1.5" />
        {last && <circle cx={x(last.step)} cy={y(last.learningRate)} r="3" fill="#d9480f" data-testid="lr-now" />}
      </svg>
      <figcaption className="muted">
        {last ? `now ${last.learningRate.toExponential(1)} at step ${last.step + 1}; ` : ''}peak {config.learningRate.toExponential(1)} for the head, {backbone.toExponential(1)} for unfrozen blocks
      </figcaption>
    </figure>
  );
}
