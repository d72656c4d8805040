// Learning-rate schedules as pure functions of the step.

export type LrSchedule = 'constant' | 'warmup-cosine';

export interface LrScheduleConfig {
  schedule: LrSchedule;
  /** Peak learning rate. */
  learningRate: number;
  /** Linear warm-up steps from 0 (warmup-cosine only). */
  warmupSteps: number;
  /** Total steps of the run, for the cosine decay to 0. */
  totalSteps: number;
}

/** Learning rate for 0-based `step`. */
export function learningRateAt(step: number, config: LrScheduleConfig): number {
  const { learningRate, warmupSteps, totalSteps } = config;
  if (config.schedule === 'constant') return learningRate;
  if (step < warmupSteps) return (learningRate * (step + 1)) / warmupSteps;
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  return 0.5 * learningRate * (1 + Math.cos(Math.PI * progress));
}
