// Adam and SGD with momentum whose state is keyed by variable name, with a learning-rate
// multiplier per variable. tfjs's own optimizers index their state by the variable's position
// in the gradient list, so changing which variables train (the freeze depth) between two steps
// would hand one variable another's moments; and Adam ignores gradient scaling, so a lower
// backbone learning rate has to be a per-variable rate, not a scaled gradient.

import * as tf from '@tensorflow/tfjs';
import type { OptimizerKind } from '../core/training-config';
import { fusedAdamStep } from './wasm-adam';

export interface OptimizerOptions {
  kind: OptimizerKind;
  /** SGD momentum. Default: 0.9. */
  momentum?: number;
  /** Adam β1. Default: 0.9. */
  beta1?: number;
  /** Adam β2. Default: 0.999. */
  beta2?: number;
  /** Adam ε. Default: 1e-7 (Keras). */
  epsilon?: number;
}

interface SlotState {
  /** Adam's first moment, or SGD's velocity. */
  m: tf.Variable;
  /** Adam's second moment. */
  v: tf.Variable | null;
  /** Updates applied to this variable, for Adam's bias correction. */
  steps: number;
}

export class KeyedOptimizer {
  private readonly slots = new Map<string, SlotState>();
  private readonly momentum: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  constructor(private readonly options: OptimizerOptions) {
    this.momentum = options.momentum ?? 0.9;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
  }

  hasState(variableName: string): boolean {
    return this.slots.has(variableName);
  }

  /**
   * Applies one update. `grads` maps variable names to gradients (as tf.variableGrads returns
   * them); `rateOf(name)` is each variable's learning rate for this step.
   */
  apply(variables: readonly tf.Variable[], grads: tf.NamedTensorMap, rateOf: (name: string) => number): void {
    for (const variable of variables) {
      const grad = grads[variable.name];
      if (!grad) continue;
      const slot = this.slotFor(variable);
      slot.steps += 1;
      const rate = rateOf(variable.name);
      tf.tidy(() => {
        if (this.options.kind === 'sgd') {
          const velocity = tf.add(tf.mul(slot.m, this.momentum), grad);
          slot.m.assign(velocity);
          variable.assign(tf.sub(variable, tf.mul(velocity, rate)));
          return;
        }
        const correctedRate = (rate * Math.sqrt(1 - this.beta2 ** slot.steps)) / (1 - this.beta1 ** slot.steps);
        const fused = fusedAdamStep(variable, grad, slot.m, slot.v!, { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, correctedRate });
        if (fused) {
          const [w, m, v] = fused;
          slot.m.assign(m);
          slot.v!.assign(v);
          variable.assign(w);
          return;
        }
        const m = tf.add(tf.mul(slot.m, this.beta1), tf.mul(grad, 1 - this.beta1));
        const v = tf.add(tf.mul(slot.v!, this.beta2), tf.mul(tf.square(grad), 1 - this.beta2));
        slot.m.assign(m);
        slot.v!.assign(v);
        variable.assign(tf.sub(variable, tf.mul(tf.div(m, tf.add(tf.sqrt(v), this.epsilon)), correctedRate)));
      });
    }
  }

  /** A copy of a variable's state (tensors the caller disposes); undefined when it has none yet. */
  copySlot(variableName: string): { m: tf.Tensor; v: tf.Tensor | null; steps: number } | undefined {
    const slot = this.slots.get(variableName);
    return slot && { m: tf.keep(slot.m.clone()), v: slot.v ? tf.keep(slot.v.clone()) : null, steps: slot.steps };
  }

  /** Sets a variable's state, as copySlot gave it (a resumed run's). */
  setSlot(variable: tf.Variable, state: { m: Float32Array; v: Float32Array | null; steps: number }): void {
    if ((state.v === null) !== (this.options.kind === 'sgd')) throw new Error(`A ${this.options.kind} state needs ${this.options.kind === 'sgd' ? 'no' : 'a'} second moment (${variable.name}).`);
    const slot = this.slotFor(variable);
    tf.tidy(() => {
      slot.m.assign(tf.tensor(state.m, variable.shape));
      if (state.v) slot.v!.assign(tf.tensor(state.v, variable.shape));
    });
    slot.steps = state.steps;
  }

  /** Frees every slot. */
  dispose(): void {
    for (const slot of this.slots.values()) {
      slot.m.dispose();
      slot.v?.dispose();
    }
    this.slots.clear();
  }

  private slotFor(variable: tf.Variable): SlotState {
    let slot = this.slots.get(variable.name);
    if (!slot) {
      const zeros = () => tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
      slot = { m: zeros(), v: this.options.kind === 'adam' ? zeros() : null, steps: 0 };
      this.slots.set(variable.name, slot);
    }
    return slot;
  }
}
