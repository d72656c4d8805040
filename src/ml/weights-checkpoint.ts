// The last state of a run's model known to be good (the run's start, every epoch's end): what a
// non-finite loss rolls back to. Only the model's own weights are kept; the shared network it
// started from is never written, so a segment first trained after the checkpoint is simply
// forgotten and runs the shared weights again.

import * as tf from '@tensorflow/tfjs';
import type { RunModel } from './run-model';

export class WeightsCheckpoint {
  private constructor(
    readonly step: number,
    private readonly owned: ReadonlySet<number>,
    private readonly values: Map<tf.Variable, tf.Tensor>,
  ) {}

  static take(model: RunModel, step: number): WeightsCheckpoint {
    const variables = [model.head.kernel, model.head.bias, ...model.ownedSegments().flatMap(weightVariables)];
    return new WeightsCheckpoint(step, model.ownedIndices(), new Map(variables.map((v) => [v, tf.keep(v.clone())])));
  }

  /** Puts the model back as it was at the checkpoint. */
  restore(model: RunModel): void {
    model.forgetSegmentsExcept(this.owned);
    for (const [variable, value] of this.values) variable.assign(value);
  }

  dispose(): void {
    this.values.forEach((value) => value.dispose());
    this.values.clear();
  }
}

/** Every weight of a segment, BatchNorm moving statistics included, in layer order. */
export function weightVariables(segment: ReturnType<RunModel['ownedSegments']>[number]): tf.Variable[] {
  return segment.layers.flatMap(({ layer }) => layer.weights.map((w) => w.read() as tf.Variable));
}
