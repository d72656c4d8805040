// A linear probe on cached backbone features: standardised multinomial logistic regression with
// L2, fitted to convergence. It is the baseline a trained head should reach on the same features,
// and its cross-validated out-of-fold probabilities cover every image, training images included.

import { LabError } from './errors';
import { Z_95, wilsonInterval } from './intervals';
import { addToConfusion, emptyConfusion, metricsFromConfusion, type ClassificationMetrics } from './metrics';
import { createPrng, shuffledIndices } from './prng';

/**
 * λ in Σᵢ sᵢ·ℓᵢ + λ/2·‖W‖²: 1 / C of scikit-learn's LogisticRegression. Its default C = 1 on
 * StandardScaler'd features is the usual "logistic-regression baseline", so the probe's numbers
 * can be checked against a two-line Python script. (Sweeping λ per dataset, as Kornblith et al.
 * 2019 and CLIP do, would cost a fit per value; C = 1 is a fixed, citable point instead.)
 */
export const DEFAULT_PROBE_L2 = 1;
/**
 * Iteration budget of one fit (scikit-learn's max_iter is 100). Measured here on 2048-d features
 * shaped like ResNet50's, a fit reached the tolerance below in 30–75 iterations; a fold that runs
 * out of budget says so (converged: false).
 */
export const DEFAULT_PROBE_MAX_ITERATIONS = 200;
/**
 * Stop when every entry of the mean objective's gradient is at most this (scipy's gtol). Ten
 * times tighter than scikit-learn's tol = 1e-4: measured here (480 training rows × 2048
 * dimensions, 10 classes), 1e-4 stopped with held-out probabilities up to 0.13 away from the
 * optimum's and 2 of 120 predictions different; 1e-5 within 0.015 and none different, at about
 * twice the iterations. The out-of-fold probabilities feed confident learning, so they must be
 * the model's, not the optimiser's.
 */
export const DEFAULT_PROBE_TOLERANCE = 1e-5;
/** Folds of crossValidateProbe. */
export const DEFAULT_PROBE_FOLDS = 5;

/** L-BFGS memory: scipy's default maxcor. */
const LBFGS_MEMORY = 10;
/** Armijo sufficient-decrease constant (Nocedal & Wright's usual 1e-4). */
const ARMIJO_C1 = 1e-4;
/** Backtracking steps before a line search gives up; scikit-learn passes maxls = 50 to scipy. */
const MAX_LINE_SEARCH_STEPS = 50;
/** Relative decrease of the objective below which progress has stopped: scikit-learn's ftol, 64 machine epsilons. */
const OBJECTIVE_TOLERANCE = 64 * Number.EPSILON;
/**
 * A dimension whose standard deviation is at most this times its mean's magnitude is constant on
 * the training rows (float64 sums of equal float32 values leave ~1e-16 of noise). Like
 * StandardScaler, it is not scaled: it carries nothing, so it gets weight 0.
 */
const CONSTANT_RELATIVE_STD = 1e-10;
/** Rows per sweep of the matrix products. */
const ROW_BLOCK = 4;

export interface LinearProbeOptions {
  /** Per-class weights of the loss, indexed by class: the run's (classWeights(counts, weighting)). Default: all 1. */
  classWeights?: readonly number[];
  /**
   * λ on the weights (the biases are not penalised): 1 / C of scikit-learn. 0 turns the penalty
   * off (on separable features the weights then grow until the budget ends). Default: 1.
   */
  l2?: number;
  /** Most L-BFGS iterations. Default: 200. */
  maxIterations?: number;
  /** Gradient tolerance (max |∂F| of the mean objective). Default: 1e-5. */
  tolerance?: number;
  /** Indices of the rows to train on. Default: every row. */
  rows?: ArrayLike<number>;
  /** A model of the same shape to start from (the previous fold's). Default: all zeros. */
  warmStart?: LinearProbeModel;
}

/** A fitted probe: everything probeProbabilities needs, plain typed arrays (transferable). */
export interface LinearProbeModel {
  numClasses: number;
  /** Feature dimension d. */
  dimension: number;
  /** Per-dimension mean of the training rows. [d] */
  mean: Float64Array;
  /** 1 / (population) standard deviation of the training rows; 0 for a dimension constant on them. [d] */
  inverseStd: Float64Array;
  /** Weights on the standardised features. [C, d] row-major */
  weights: Float64Array;
  /** [C]; −Infinity for a class without training weight, which is then never predicted. */
  bias: Float64Array;
  iterations: number;
  /** Whether the gradient (or the objective's decrease) met its tolerance within the budget. */
  converged: boolean;
  /** The mean objective at the end: (Σᵢ sᵢ·ℓᵢ + λ/2·‖W‖²) / Σᵢ sᵢ. */
  objective: number;
}

/**
 * Fits softmax regression on standardised features (mean and std from the training rows only).
 *
 * The optimiser is full-batch L-BFGS (memory 10, backtracking Armijo line search), chosen because
 * the objective is smooth and, with λ > 0, strictly convex in W, so the probabilities at its
 * minimum are unique and any good optimiser lands on the same model; L-BFGS needs no step size
 * (Adam or Nesterov would add a learning rate and a schedule to defend), it is scikit-learn's
 * default solver for this exact problem (its numbers are a reference), and standardised 2048-d
 * CNN features are strongly correlated, an ill-conditioned problem on which first-order methods
 * take thousands of passes where L-BFGS takes tens. Each iteration costs about one pass over the rows (2·n·d·C
 * multiply-adds), and everything is deterministic: the same inputs give bit-identical weights.
 *
 * @param features [n, d] row-major; d = features.length / labels.length.
 * @param labels [n] class indices in 0..numClasses−1.
 */
export function fitLinearProbe(features: Float32Array, labels: Int32Array, numClasses: number, options: LinearProbeOptions = {}): LinearProbeModel {
  const d = dimensionOf(features, labels, numClasses);
  const weights = checkedClassWeights(options.classWeights, numClasses);
  const l2 = options.l2 ?? DEFAULT_PROBE_L2;
  if (!(l2 >= 0 && Number.isFinite(l2))) throw new LabError('input/invalid', `The probe's L2 strength must be a finite number ≥ 0, not ${l2}.`);
  const allRows = options.rows ?? Array.from({ length: labels.length }, (_, i) => i);

  // Rows with weight 0 add nothing to the loss or the gradient: drop them before the passes.
  const rows: number[] = [];
  let totalWeight = 0;
  for (let r = 0; r < allRows.length; r++) {
    const i = allRows[r]!;
    if (!(Number.isInteger(i) && i >= 0 && i < labels.length)) throw new LabError('input/invalid', `Row ${i} is not an image of the ${labels.length} given.`);
    const w = weights[labels[i]!]!;
    if (w > 0) {
      rows.push(i);
      totalWeight += w;
    }
  }
  if (rows.length === 0) throw new LabError('input/invalid', 'The probe has no training image with a class weight above 0.');

  const { mean, inverseStd } = standardisation(features, d, allRows);
  const active = new Uint8Array(numClasses);
  const sampleWeight = new Float64Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const label = labels[rows[r]!]!;
    active[label] = 1;
    sampleWeight[r] = weights[label]! / totalWeight;
  }

  const problem: Problem = {
    features,
    d,
    numClasses,
    rows: Int32Array.from(rows),
    labels,
    sampleWeight,
    active,
    mean,
    inverseStd,
    l2: l2 / totalWeight,
    rawWeights: new Float64Array(numClasses * d),
    rawBias: new Float64Array(numClasses),
    rawGradient: new Float64Array(numClasses * d),
    logits: new Float64Array(ROW_BLOCK * numClasses),
  };

  // θ = [W (C·d), b (C)], W on standardised features.
  const theta = new Float64Array(numClasses * d + numClasses);
  if (options.warmStart) {
    const start = options.warmStart;
    if (start.dimension !== d || start.numClasses !== numClasses) throw new LabError('input/invalid', 'The warm-start probe has another shape.');
    theta.set(start.weights);
    for (let c = 0; c < numClasses; c++) {
      if (!active[c]) theta.fill(0, c * d, (c + 1) * d);
      const b = start.bias[c]!;
      theta[numClasses * d + c] = active[c] && Number.isFinite(b) ? b : 0;
    }
  }
  const run = minimise(problem, theta, options.maxIterations ?? DEFAULT_PROBE_MAX_ITERATIONS, options.tolerance ?? DEFAULT_PROBE_TOLERANCE);

  const bias = theta.slice(numClasses * d);
  for (let c = 0; c < numClasses; c++) if (!active[c]) bias[c] = -Infinity;
  return { numClasses, dimension: d, mean, inverseStd, weights: theta.slice(0, numClasses * d), bias, ...run };
}

/**
 * Class probabilities of every row of `features` ([m, d] row-major, raw as cached), or of the
 * given rows only, in their order. Returns [m, C] row-major; each row sums to 1.
 */
export function probeProbabilities(model: LinearProbeModel, features: Float32Array, rows?: ArrayLike<number>): Float64Array {
  const { dimension: d, numClasses } = model;
  if (features.length % d !== 0) throw new LabError('input/invalid', `Features of length ${features.length} are not rows of ${d}.`);
  const count = rows ? rows.length : features.length / d;
  const { rawWeights, rawBias } = toRawSpace(model.weights, model.bias, model.mean, model.inverseStd, numClasses, d);
  const out = new Float64Array(count * numClasses); // [m, C]
  const logits = new Float64Array(numClasses);
  for (let r = 0; r < count; r++) {
    const i = rows ? rows[r]! : r;
    rowLogits(features.subarray(i * d, (i + 1) * d), rawWeights, rawBias, numClasses, d, logits);
    let max = -Infinity;
    for (let c = 0; c < numClasses; c++) if (logits[c]! > max) max = logits[c]!;
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += logits[c] = Math.exp(logits[c]! - max);
    for (let c = 0; c < numClasses; c++) out[r * numClasses + c] = logits[c]! / sum;
  }
  return out;
}

export interface ProbeCrossValidationOptions {
  /** Folds asked for; fewer when the smallest class has fewer images. Default: 5. */
  folds?: number;
  /** Seeds the shuffle that deals each class's images to the folds. */
  seed: number;
  /** λ on the weights. Default: 1 (DEFAULT_PROBE_L2). */
  l2?: number;
  /** Per-class weights of the loss: the run's. Default: all 1. */
  classWeights?: readonly number[];
  /** Most L-BFGS iterations per fold. Default: 200. */
  maxIterations?: number;
  /** Gradient tolerance per fold. Default: 1e-5. */
  tolerance?: number;
  /** Called after each fold (folds take from milliseconds to seconds each). */
  onFoldEnd?: (foldsDone: number, folds: number) => void;
}

export interface ProbeFold {
  /** Held-out images. */
  count: number;
  accuracy: number;
  macroF1: number;
  iterations: number;
  converged: boolean;
}

/** A class's recall on the pooled out-of-fold predictions, with its Wilson 95% interval. */
export interface ClassRecall {
  recall: number;
  low: number;
  high: number;
  /** Images of the class. */
  support: number;
}

export interface ProbeCrossValidation {
  /** Folds that ran. */
  folds: number;
  requestedFolds: number;
  /** Why fewer folds ran than were asked for (or why a class cannot be predicted), or null. */
  note: string | null;
  /** The fold that held each image out. [n] */
  foldOf: Int32Array;
  /** Out-of-fold class probabilities: row i from the fold that did not train on image i. [n, C] row-major */
  probabilities: Float64Array;
  /** Most probable class per image, out of fold. [n] */
  predicted: Int32Array;
  perFold: ProbeFold[];
  macroF1Mean: number;
  /** Sample standard deviation (n − 1) of the folds' macro-F1: how much a score on n/k images moves. */
  macroF1Std: number;
  accuracyMean: number;
  accuracyStd: number;
  /** Metrics of every image's out-of-fold prediction together. */
  pooled: ClassificationMetrics;
  /** Per class, from the pooled confusion matrix. */
  recall: ClassRecall[];
  /** λ used. */
  l2: number;
}

/**
 * Stratified k-fold cross-validation of the probe: each class's images are shuffled with the seed
 * and dealt to the folds in turn, so every fold holds each class's images within one of its share.
 * Fold f starts from fold f−1's solution: the folds share most of their training rows, so this
 * saves iterations, and since the optimum is unique it only changes where the search starts.
 *
 * Cost: folds × iterations × 2·(n·(k−1)/k)·d·C multiply-adds, at ~1.4 GMAC/s on one core here
 * (Node 20, 2-core machine, busy). Measured with the defaults on synthetic ResNet-like features
 * (d = 2048): n = 112, C = 6 in ~0.5 s (150 iterations over 5 folds); n = 2000, C = 10 in ~16 s
 * (335 iterations). With tolerance 1e-4 it takes about a third of the iterations, and
 * less exact probabilities (see DEFAULT_PROBE_TOLERANCE).
 *
 * @param features [n, d] row-major, raw as cached (each fold standardises on its own training rows).
 */
export function crossValidateProbe(features: Float32Array, labels: Int32Array, numClasses: number, options: ProbeCrossValidationOptions): ProbeCrossValidation {
  dimensionOf(features, labels, numClasses);
  const requestedFolds = options.folds ?? DEFAULT_PROBE_FOLDS;
  if (!(Number.isInteger(requestedFolds) && requestedFolds >= 2)) throw new LabError('input/invalid', `Cross-validation needs a whole number of folds ≥ 2, not ${requestedFolds}.`);
  const n = labels.length;
  const members: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < n; i++) members[labels[i]!]!.push(i);
  const present = members.map((m, c) => ({ c, count: m.length })).filter((m) => m.count > 0);
  if (present.length < 2) throw new LabError('input/invalid', 'Cross-validating the probe needs images of at least two classes.');
  const smallest = present.reduce((a, b) => (b.count < a.count ? b : a));
  const folds = Math.max(2, Math.min(requestedFolds, smallest.count));
  const note =
    smallest.count < 2
      ? `Class ${smallest.c} has a single image: ${folds} folds instead of ${requestedFolds}, and that image is predicted by a probe that never saw its class.`
      : folds < requestedFolds
        ? `Class ${smallest.c} has only ${smallest.count} images: ${folds} folds instead of ${requestedFolds}, so that each fold holds one of them.`
        : null;

  const foldOf = assignFolds(members, folds, options.seed);
  const probabilities = new Float64Array(n * numClasses); // [n, C]
  const predicted = new Int32Array(n);
  const pooledConfusion = emptyConfusion(numClasses);
  const perFold: ProbeFold[] = [];
  let previous: LinearProbeModel | undefined;
  for (let f = 0; f < folds; f++) {
    const train: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < n; i++) (foldOf[i] === f ? held : train).push(i);
    const model = fitLinearProbe(features, labels, numClasses, {
      rows: train,
      ...(options.classWeights ? { classWeights: options.classWeights } : {}),
      ...(options.l2 !== undefined ? { l2: options.l2 } : {}),
      ...(options.maxIterations !== undefined ? { maxIterations: options.maxIterations } : {}),
      ...(options.tolerance !== undefined ? { tolerance: options.tolerance } : {}),
      ...(previous ? { warmStart: previous } : {}),
    });
    previous = model;
    const heldProbabilities = probeProbabilities(model, features, held); // [held, C]
    const actual: number[] = [];
    const guessed: number[] = [];
    for (let r = 0; r < held.length; r++) {
      const i = held[r]!;
      probabilities.set(heldProbabilities.subarray(r * numClasses, (r + 1) * numClasses), i * numClasses);
      predicted[i] = argmax(heldProbabilities, r * numClasses, numClasses);
      actual.push(labels[i]!);
      guessed.push(predicted[i]!);
    }
    const foldConfusion = emptyConfusion(numClasses);
    addToConfusion(foldConfusion, actual, guessed);
    addToConfusion(pooledConfusion, actual, guessed);
    const metrics = metricsFromConfusion(foldConfusion);
    perFold.push({ count: held.length, accuracy: metrics.accuracy, macroF1: metrics.macroF1, iterations: model.iterations, converged: model.converged });
    options.onFoldEnd?.(f + 1, folds);
  }

  const pooled = metricsFromConfusion(pooledConfusion);
  const recall = pooled.perClass.map((m, c) => {
    const interval = wilsonInterval(pooledConfusion[c]![c]!, m.support, Z_95);
    return { recall: m.recall, low: interval.low, high: interval.high, support: m.support };
  });
  const macroF1s = perFold.map((f) => f.macroF1);
  const accuracies = perFold.map((f) => f.accuracy);
  return {
    folds,
    requestedFolds,
    note,
    foldOf,
    probabilities,
    predicted,
    perFold,
    macroF1Mean: meanOf(macroF1s),
    macroF1Std: sampleStd(macroF1s),
    accuracyMean: meanOf(accuracies),
    accuracyStd: sampleStd(accuracies),
    pooled,
    recall,
    l2: options.l2 ?? DEFAULT_PROBE_L2,
  };
}

/**
 * The fold of each image: per class (in class order), its images in a seeded shuffle, dealt to
 * folds 0, 1, …, k−1, 0, … continuing where the previous class stopped, so folds differ by at
 * most one image in size and per class.
 */
function assignFolds(members: readonly number[][], folds: number, seed: number): Int32Array {
  const random = createPrng(seed);
  const foldOf = new Int32Array(members.reduce((a, m) => a + m.length, 0));
  let position = 0;
  for (const classMembers of members) {
    for (const j of shuffledIndices(classMembers.length, random)) foldOf[classMembers[j]!] = position++ % folds;
  }
  return foldOf;
}

/** What one objective evaluation reads, and scratch it writes (allocated once per fit). */
interface Problem {
  features: Float32Array;
  d: number;
  numClasses: number;
  /** Training rows with weight > 0. */
  rows: Int32Array;
  labels: Int32Array;
  /** sᵢ / Σⱼ sⱼ per training row, so the loss term is a weighted mean. */
  sampleWeight: Float64Array;
  /** 1 for a class with training weight; the others are never predicted. */
  active: Uint8Array;
  mean: Float64Array;
  inverseStd: Float64Array;
  /** λ / Σⱼ sⱼ. */
  l2: number;
  rawWeights: Float64Array;
  rawBias: Float64Array;
  rawGradient: Float64Array;
  /** Logits, then residuals, of a block of rows. [ROW_BLOCK, C] */
  logits: Float64Array;
}

/**
 * The mean objective at θ, and its gradient into `gradient`. One pass over the training rows:
 * logits, softmax and the row's gradient contribution while the row is in cache.
 *
 * Standardisation is folded into the weights instead of copying the features per fold:
 * wᵀ((x − μ) ⊙ σ⁻¹) + b = (w ⊙ σ⁻¹)ᵀx + (b − (w ⊙ σ⁻¹)ᵀμ), and the gradient on the
 * standardised weights is ((Σᵢ rᵢxᵢ) − μ·Σᵢ rᵢ) ⊙ σ⁻¹ for residuals rᵢ = sᵢ(pᵢ − yᵢ).
 */
function evaluate(problem: Problem, theta: Float64Array, gradient: Float64Array): number {
  const { features, d, numClasses: C, rows, mean, inverseStd, rawGradient, logits } = problem;
  const weights = theta.subarray(0, C * d);
  const { rawWeights, rawBias } = toRawSpace(weights, theta.subarray(C * d), mean, inverseStd, C, d, problem);
  rawGradient.fill(0);
  const biasGradient = gradient.subarray(C * d);
  biasGradient.fill(0);

  // Rows go four at a time through the two matrix products (each weight read once for four rows:
  // 1.7× the throughput of one row at a time in V8 here), the last few one at a time.
  let loss = 0;
  let r = 0;
  for (; r + ROW_BLOCK <= rows.length; r += ROW_BLOCK) {
    const x0 = rowOf(features, rows[r]!, d);
    const x1 = rowOf(features, rows[r + 1]!, d);
    const x2 = rowOf(features, rows[r + 2]!, d);
    const x3 = rowOf(features, rows[r + 3]!, d);
    blockLogits(x0, x1, x2, x3, rawWeights, rawBias, C, d, logits);
    for (let b = 0; b < ROW_BLOCK; b++) loss += residuals(problem, r + b, logits, b * C, biasGradient);
    blockAccumulate(x0, x1, x2, x3, logits, rawGradient, C, d);
  }
  for (; r < rows.length; r++) {
    const x = rowOf(features, rows[r]!, d);
    rowLogits(x, rawWeights, rawBias, C, d, logits);
    loss += residuals(problem, r, logits, 0, biasGradient);
    accumulateRow(x, logits, rawGradient, C, d);
  }

  let squaredNorm = 0;
  for (let c = 0; c < C; c++) {
    const offset = c * d;
    const rowSum = biasGradient[c]!;
    for (let k = 0; k < d; k++) {
      const w = weights[offset + k]!;
      squaredNorm += w * w;
      gradient[offset + k] = (rawGradient[offset + k]! - mean[k]! * rowSum) * inverseStd[k]! + problem.l2 * w;
    }
  }
  return loss + 0.5 * problem.l2 * squaredNorm;
}

/**
 * Turns the logits of training row r, at logits[offset…offset+C), into its residuals sᵢ(pᵢ − yᵢ)
 * in place, adds them to the bias gradient, and returns the row's weighted loss
 * sᵢ·(log Σ exp z − z_y).
 */
function residuals(problem: Problem, r: number, logits: Float64Array, offset: number, biasGradient: Float64Array): number {
  const { numClasses: C, active } = problem;
  const label = problem.labels[problem.rows[r]!]!;
  let max = -Infinity;
  for (let c = 0; c < C; c++) if (active[c] && logits[offset + c]! > max) max = logits[offset + c]!;
  const labelLogit = logits[offset + label]!;
  let sum = 0;
  for (let c = 0; c < C; c++) sum += logits[offset + c] = active[c] ? Math.exp(logits[offset + c]! - max) : 0;
  const s = problem.sampleWeight[r]!;
  for (let c = 0; c < C; c++) {
    const residual = s * (logits[offset + c]! / sum - (c === label ? 1 : 0));
    logits[offset + c] = residual;
    biasGradient[c]! += residual;
  }
  return s * (Math.log(sum) + max - labelLogit);
}

function rowOf(features: Float32Array, i: number, d: number): Float32Array {
  return features.subarray(i * d, (i + 1) * d);
}

/** rowLogits for four rows at once: out[b·C + c] for row b. Two classes per sweep, an odd last one alone. */
function blockLogits(
  x0: Float32Array,
  x1: Float32Array,
  x2: Float32Array,
  x3: Float32Array,
  rawWeights: Float64Array,
  rawBias: Float64Array,
  C: number,
  d: number,
  out: Float64Array,
): void {
  let c = 0;
  for (; c + 1 < C; c += 2) {
    const w0 = rawWeights.subarray(c * d, (c + 1) * d);
    const w1 = rawWeights.subarray((c + 1) * d, (c + 2) * d);
    let a0 = 0, a1 = 0, b0 = 0, b1 = 0, e0 = 0, e1 = 0, f0 = 0, f1 = 0;
    for (let k = 0; k < d; k++) {
      const p = w0[k]!;
      const q = w1[k]!;
      let v = x0[k]!;
      a0 += v * p;
      a1 += v * q;
      v = x1[k]!;
      b0 += v * p;
      b1 += v * q;
      v = x2[k]!;
      e0 += v * p;
      e1 += v * q;
      v = x3[k]!;
      f0 += v * p;
      f1 += v * q;
    }
    const p = rawBias[c]!;
    const q = rawBias[c + 1]!;
    out[c] = p + a0;
    out[c + 1] = q + a1;
    out[C + c] = p + b0;
    out[C + c + 1] = q + b1;
    out[2 * C + c] = p + e0;
    out[2 * C + c + 1] = q + e1;
    out[3 * C + c] = p + f0;
    out[3 * C + c + 1] = q + f1;
  }
  if (c < C) {
    const w0 = rawWeights.subarray(c * d, (c + 1) * d);
    let a0 = 0, b0 = 0, e0 = 0, f0 = 0;
    for (let k = 0; k < d; k++) {
      const p = w0[k]!;
      a0 += x0[k]! * p;
      b0 += x1[k]! * p;
      e0 += x2[k]! * p;
      f0 += x3[k]! * p;
    }
    const p = rawBias[c]!;
    out[c] = p + a0;
    out[C + c] = p + b0;
    out[2 * C + c] = p + e0;
    out[3 * C + c] = p + f0;
  }
}

/** accumulateRow for four rows at once, residuals[b·C + c] for row b. */
function blockAccumulate(x0: Float32Array, x1: Float32Array, x2: Float32Array, x3: Float32Array, residuals: Float64Array, gradient: Float64Array, C: number, d: number): void {
  let c = 0;
  for (; c + 1 < C; c += 2) {
    const r0 = residuals[c]!, s0 = residuals[C + c]!, t0 = residuals[2 * C + c]!, u0 = residuals[3 * C + c]!;
    const r1 = residuals[c + 1]!, s1 = residuals[C + c + 1]!, t1 = residuals[2 * C + c + 1]!, u1 = residuals[3 * C + c + 1]!;
    const g0 = gradient.subarray(c * d, (c + 1) * d);
    const g1 = gradient.subarray((c + 1) * d, (c + 2) * d);
    for (let k = 0; k < d; k++) {
      const a = x0[k]!;
      const b = x1[k]!;
      const e = x2[k]!;
      const f = x3[k]!;
      g0[k]! += r0 * a + s0 * b + t0 * e + u0 * f;
      g1[k]! += r1 * a + s1 * b + t1 * e + u1 * f;
    }
  }
  if (c < C) {
    const r0 = residuals[c]!, s0 = residuals[C + c]!, t0 = residuals[2 * C + c]!, u0 = residuals[3 * C + c]!;
    const g0 = gradient.subarray(c * d, (c + 1) * d);
    for (let k = 0; k < d; k++) g0[k]! += r0 * x0[k]! + s0 * x1[k]! + t0 * x2[k]! + u0 * x3[k]!;
  }
}

/** Weights and biases on raw features equivalent to `weights` and `bias` on standardised ones. */
function toRawSpace(
  weights: Float64Array,
  bias: Float64Array,
  mean: Float64Array,
  inverseStd: Float64Array,
  C: number,
  d: number,
  scratch?: { rawWeights: Float64Array; rawBias: Float64Array },
): { rawWeights: Float64Array; rawBias: Float64Array } {
  const rawWeights = scratch?.rawWeights ?? new Float64Array(C * d);
  const rawBias = scratch?.rawBias ?? new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const offset = c * d;
    let shift = 0;
    for (let k = 0; k < d; k++) {
      const v = weights[offset + k]! * inverseStd[k]!;
      rawWeights[offset + k] = v;
      shift += v * mean[k]!;
    }
    rawBias[c] = bias[c]! - shift;
  }
  return { rawWeights, rawBias };
}

/** logits[c] = rawBias[c] + rawWeights[c]·x. Two classes per sweep, so x is read once per pair (~1.5× faster in V8 here). */
function rowLogits(x: Float32Array, rawWeights: Float64Array, rawBias: Float64Array, C: number, d: number, logits: Float64Array): void {
  let c = 0;
  for (; c + 1 < C; c += 2) {
    const w0 = rawWeights.subarray(c * d, (c + 1) * d);
    const w1 = rawWeights.subarray((c + 1) * d, (c + 2) * d);
    let s0 = 0;
    let s1 = 0;
    for (let k = 0; k < d; k++) {
      const v = x[k]!;
      s0 += v * w0[k]!;
      s1 += v * w1[k]!;
    }
    logits[c] = rawBias[c]! + s0;
    logits[c + 1] = rawBias[c + 1]! + s1;
  }
  if (c < C) {
    const w0 = rawWeights.subarray(c * d, (c + 1) * d);
    let s0 = 0;
    for (let k = 0; k < d; k++) s0 += x[k]! * w0[k]!;
    logits[c] = rawBias[c]! + s0;
  }
}

/** gradient[c] += residuals[c] · x for every class, two classes per sweep. */
function accumulateRow(x: Float32Array, residuals: Float64Array, gradient: Float64Array, C: number, d: number): void {
  let c = 0;
  for (; c + 1 < C; c += 2) {
    const r0 = residuals[c]!;
    const r1 = residuals[c + 1]!;
    const g0 = gradient.subarray(c * d, (c + 1) * d);
    const g1 = gradient.subarray((c + 1) * d, (c + 2) * d);
    for (let k = 0; k < d; k++) {
      const v = x[k]!;
      g0[k]! += r0 * v;
      g1[k]! += r1 * v;
    }
  }
  if (c < C) {
    const r0 = residuals[c]!;
    const g0 = gradient.subarray(c * d, (c + 1) * d);
    for (let k = 0; k < d; k++) g0[k]! += r0 * x[k]!;
  }
}

/** L-BFGS from θ (updated in place) until the gradient tolerance, the objective's standstill or the budget. */
function minimise(problem: Problem, theta: Float64Array, maxIterations: number, tolerance: number): { iterations: number; converged: boolean; objective: number } {
  const size = theta.length;
  let gradient: Float64Array = new Float64Array(size);
  let f = evaluate(problem, theta, gradient);
  if (maxAbs(gradient) <= tolerance) return { iterations: 0, converged: true, objective: f };

  const steps: Float64Array[] = [];
  const changes: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(LBFGS_MEMORY);
  const direction = new Float64Array(size);
  let candidate: Float64Array = new Float64Array(size);
  let candidateGradient: Float64Array = new Float64Array(size);
  let current: Float64Array = theta;
  let converged = false;
  let iterations = 0;

  while (iterations < maxIterations) {
    iterations++;
    twoLoop(gradient, steps, changes, rho, alpha, direction);
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // Lost descent (rounding): start the memory afresh from steepest descent.
      steps.length = changes.length = rho.length = 0;
      for (let j = 0; j < size; j++) direction[j] = -gradient[j]!;
      slope = -dot(gradient, gradient);
    }
    // Without curvature information the first step is scaled to unit length, as scipy's L-BFGS-B does.
    let step = steps.length === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    let accepted = false;
    let fCandidate = f;
    for (let ls = 0; ls < MAX_LINE_SEARCH_STEPS; ls++) {
      for (let j = 0; j < size; j++) candidate[j] = current[j]! + step * direction[j]!;
      fCandidate = evaluate(problem, candidate, candidateGradient);
      if (fCandidate <= f + ARMIJO_C1 * step * slope) {
        accepted = true;
        break;
      }
      // Minimum of the quadratic through f, the slope and fCandidate, kept within [0.1, 0.5] of the step.
      const quadratic = Number.isFinite(fCandidate) ? (-slope * step * step) / (2 * (fCandidate - f - slope * step)) : 0.1 * step;
      step = Math.min(0.5 * step, Math.max(0.1 * step, quadratic));
    }
    if (!accepted) {
      if (steps.length === 0) break;
      steps.length = changes.length = rho.length = 0;
      continue;
    }

    const s = steps.length === LBFGS_MEMORY ? steps.shift()! : new Float64Array(size);
    const y = changes.length === LBFGS_MEMORY ? changes.shift()! : new Float64Array(size);
    if (rho.length === LBFGS_MEMORY) rho.shift();
    for (let j = 0; j < size; j++) {
      s[j] = candidate[j]! - current[j]!;
      y[j] = candidateGradient[j]! - gradient[j]!;
    }
    const sy = dot(s, y);
    // Keep the pair only with positive curvature, so the inverse-Hessian estimate stays positive definite.
    if (sy > Number.EPSILON * dot(y, y)) {
      steps.push(s);
      changes.push(y);
      rho.push(1 / sy);
    }

    [current, candidate] = [candidate, current];
    [gradient, candidateGradient] = [candidateGradient, gradient];
    const fPrevious = f;
    f = fCandidate;
    if (maxAbs(gradient) <= tolerance || fPrevious - f <= OBJECTIVE_TOLERANCE * Math.max(Math.abs(fPrevious), Math.abs(f), 1)) {
      converged = true;
      break;
    }
  }
  if (current !== theta) theta.set(current);
  return { iterations, converged, objective: f };
}

/** direction = −H·gradient, H the L-BFGS inverse-Hessian estimate (Nocedal & Wright, algorithm 7.4). */
function twoLoop(gradient: Float64Array, steps: readonly Float64Array[], changes: readonly Float64Array[], rho: readonly number[], alpha: Float64Array, direction: Float64Array): void {
  const size = gradient.length;
  direction.set(gradient);
  const m = steps.length;
  for (let i = m - 1; i >= 0; i--) {
    const a = rho[i]! * dot(steps[i]!, direction);
    alpha[i] = a;
    const y = changes[i]!;
    for (let j = 0; j < size; j++) direction[j]! -= a * y[j]!;
  }
  if (m > 0) {
    const y = changes[m - 1]!;
    const gamma = dot(steps[m - 1]!, y) / dot(y, y);
    for (let j = 0; j < size; j++) direction[j]! *= gamma;
  }
  for (let i = 0; i < m; i++) {
    const s = steps[i]!;
    const beta = rho[i]! * dot(changes[i]!, direction);
    const a = alpha[i]!;
    for (let j = 0; j < size; j++) direction[j]! += (a - beta) * s[j]!;
  }
  for (let j = 0; j < size; j++) direction[j] = -direction[j]!;
}

/** Per-dimension mean and inverse population std of the given rows (two passes: no E[x²] − E[x]² cancellation). */
function standardisation(features: Float32Array, d: number, rows: ArrayLike<number>): { mean: Float64Array; inverseStd: Float64Array } {
  const mean = new Float64Array(d);
  const squares = new Float64Array(d);
  for (let r = 0; r < rows.length; r++) {
    const x = features.subarray(rows[r]! * d, (rows[r]! + 1) * d);
    for (let k = 0; k < d; k++) mean[k]! += x[k]!;
  }
  for (let k = 0; k < d; k++) mean[k]! /= rows.length;
  for (let r = 0; r < rows.length; r++) {
    const x = features.subarray(rows[r]! * d, (rows[r]! + 1) * d);
    for (let k = 0; k < d; k++) {
      const deviation = x[k]! - mean[k]!;
      squares[k]! += deviation * deviation;
    }
  }
  const inverseStd = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    const std = Math.sqrt(squares[k]! / rows.length);
    inverseStd[k] = std > CONSTANT_RELATIVE_STD * Math.abs(mean[k]!) && std > 0 ? 1 / std : 0;
  }
  return { mean, inverseStd };
}

function dimensionOf(features: Float32Array, labels: Int32Array, numClasses: number): number {
  const n = labels.length;
  if (!(Number.isInteger(numClasses) && numClasses >= 1)) throw new LabError('input/invalid', `The probe needs a whole number of classes ≥ 1, not ${numClasses}.`);
  if (n === 0 || features.length === 0 || features.length % n !== 0) {
    throw new LabError('input/invalid', `Features of length ${features.length} are not ${n} rows of equal length.`);
  }
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (label < 0 || label >= numClasses) throw new LabError('input/invalid', `Label ${label} of image ${i} is not a class 0..${numClasses - 1}.`);
  }
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i]!)) throw new LabError('input/invalid', `Feature ${i % (features.length / n)} of image ${Math.floor(i / (features.length / n))} is ${features[i]}.`);
  }
  return features.length / n;
}

function checkedClassWeights(weights: readonly number[] | undefined, numClasses: number): readonly number[] {
  if (!weights) return new Array<number>(numClasses).fill(1);
  if (weights.length !== numClasses || weights.some((w) => !(w >= 0 && Number.isFinite(w)))) {
    throw new LabError('input/invalid', `Class weights must be ${numClasses} finite numbers ≥ 0, not [${weights.join(', ')}].`);
  }
  return weights;
}

function argmax(values: Float64Array, offset: number, length: number): number {
  let best = 0;
  for (let c = 1; c < length; c++) if (values[offset + c]! > values[offset + best]!) best = c;
  return best;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += a[j]! * b[j]!;
  return sum;
}

function maxAbs(values: Float64Array): number {
  let max = 0;
  for (let j = 0; j < values.length; j++) {
    const v = Math.abs(values[j]!);
    if (v > max) max = v;
  }
  return max;
}

function meanOf(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function sampleStd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = meanOf(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

/** Temperatures tried by calibrateTemperature: 1 (as is) to 30, by 0.25. */
const TEMPERATURE_STEP = 0.25;
const MAX_TEMPERATURE = 30;

/**
 * Out-of-fold probabilities softened by the one temperature (p ∝ p^(1/T), T ≥ 1) that gives the
 * given labels the lowest cross-entropy (Guo et al. 2017, "On Calibration of Modern Neural
 * Networks"). With far fewer images than features the probe separates its training folds
 * perfectly and is overconfident out of fold (0.99 for stamps6's cymbal as 'space'); the label
 * check compares probabilities, so it reads calibrated ones (on stamps6 at 64 px, T = 1.5 took
 * the clean set's suspects from 15 to 10 of 112).
 */
export function calibrateTemperature(probabilities: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): { temperature: number; probabilities: Float64Array } {
  const n = labels.length;
  const logs = Float64Array.from({ length: n * numClasses }, (_, i) => Math.log(Math.max(probabilities[i]!, 1e-12)));
  const temper = (temperature: number, out: Float64Array) => {
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let c = 0; c < numClasses; c++) max = Math.max(max, logs[i * numClasses + c]! / temperature);
      let sum = 0;
      for (let c = 0; c < numClasses; c++) sum += out[i * numClasses + c] = Math.exp(logs[i * numClasses + c]! / temperature - max);
      for (let c = 0; c < numClasses; c++) out[i * numClasses + c]! /= sum;
    }
    return out;
  };
  const scratch = new Float64Array(n * numClasses);
  let best = { temperature: 1, loss: Infinity };
  for (let temperature = 1; temperature <= MAX_TEMPERATURE; temperature += TEMPERATURE_STEP) {
    temper(temperature, scratch);
    let loss = 0;
    for (let i = 0; i < n; i++) loss -= Math.log(Math.max(scratch[i * numClasses + labels[i]!]!, 1e-12));
    if (loss < best.loss) best = { temperature, loss };
  }
  return { temperature: best.temperature, probabilities: temper(best.temperature, new Float64Array(n * numClasses)) };
}
