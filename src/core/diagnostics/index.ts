// The diagnostics panel's one entry point: every statistic the lab has gathered goes in, the
// rules whose inputs are present run, and the findings come out with the likeliest cause first.

import { detectStretchedImages, type AspectRatioInput } from './aspect-ratio';
import { detectBatchNormDrift, type BatchNormDriftInput } from './batchnorm-drift';
import { detectClassImbalance, type ClassBalanceInput } from './class-imbalance';
import { detectDomainGap, type DomainGapInput } from './domain-gap';
import { detectFlatLoss } from './flat-loss';
import { detectHeadShortOfProbe, type HeadVsProbeInput } from './head-vs-probe';
import { detectInitialLoss } from './initial-loss';
import { detectInputNormalization, type InputNormalizationInput } from './input-normalization';
import { detectLabelIssues, type LabelQualityInput } from './label-quality';
import { detectLossDivergence } from './loss-divergence';
import { detectOverfitting } from './overfitting';
import { rankFindings } from './rank';
import { detectSplitMismatch, type SplitConsistencyInput } from './split-consistency';
import { detectSplitLeakage, type SplitLeakageInput } from './split-leakage';
import type { TrainingHistory } from './training-history';
import type { Finding } from './types';
import { detectUnfreezeLearningRate } from './unfreeze-learning-rate';

/** Everything the rules can use; each part is optional, and a rule runs only when its part is there. */
export interface DiagnosticsInput {
  /** Channel statistics of preprocessed training batches, and the ImageNet head's answers on a sample. */
  inputNormalization?: InputNormalizationInput;
  /** Spec hashes and channel statistics of the training and validation splits. */
  splitConsistency?: SplitConsistencyInput;
  /** Training images per class, the weighting, the latest validation confusion matrix. */
  classBalance?: ClassBalanceInput;
  /** Image sizes and colour, and the ImageNet head's confidence under caffe. */
  domainGap?: DomainGapInput;
  /** Perceptual and byte hashes of every image, with its split. */
  splitLeakage?: SplitLeakageInput;
  /** The run's per-step and per-epoch metrics. */
  training?: TrainingHistory;
  /** Per-block BatchNorm drift since the run started. */
  batchNormDrift?: BatchNormDriftInput;
  /** Out-of-sample class probabilities per image. */
  labelQuality?: LabelQualityInput;
  /** The run's validation scores against a cross-validated linear probe on the same features. */
  headVsProbe?: HeadVsProbeInput;
  /** Every image's size, and how the spec fits it into the square input. */
  aspectRatio?: AspectRatioInput;
}

type Rule = (input: DiagnosticsInput) => Finding | null;

const RULES: readonly Rule[] = [
  (i) => (i.inputNormalization ? detectInputNormalization(i.inputNormalization) : null),
  (i) => (i.splitConsistency ? detectSplitMismatch(i.splitConsistency) : null),
  (i) => (i.classBalance ? detectClassImbalance(i.classBalance) : null),
  (i) => (i.domainGap ? detectDomainGap(i.domainGap) : null),
  (i) => (i.splitLeakage ? detectSplitLeakage(i.splitLeakage) : null),
  (i) => (i.training ? detectInitialLoss(i.training) : null),
  (i) => (i.training ? detectLossDivergence(i.training) : null),
  (i) => (i.training ? detectFlatLoss(i.training) : null),
  (i) => (i.training ? detectOverfitting(i.training) : null),
  (i) => (i.training ? detectUnfreezeLearningRate(i.training) : null),
  (i) => (i.batchNormDrift ? detectBatchNormDrift(i.batchNormDrift) : null),
  (i) => (i.labelQuality ? detectLabelIssues(i.labelQuality) : null),
  (i) => (i.headVsProbe ? detectHeadShortOfProbe(i.headVsProbe) : null),
  (i) => (i.aspectRatio ? detectStretchedImages(i.aspectRatio) : null),
];

/** Runs every rule whose inputs are present; the findings come most likely cause first. */
export function runDiagnostics(input: DiagnosticsInput): Finding[] {
  return rankFindings(RULES.map((rule) => rule(input)).filter((f): f is Finding => f !== null));
}

export type { Evidence, Finding, Fix, Severity } from './types';
export { rankFindings, RULE_PRIORITY } from './rank';
export type { AspectRatioInput } from './aspect-ratio';
export type { BatchNormDriftInput } from './batchnorm-drift';
export type { ClassBalanceInput } from './class-imbalance';
export type { DomainGapInput, ImageProfile } from './domain-gap';
export type { ImageNetProbe, ImageNetTop1 } from './imagenet-probe';
export { identifyInputScaling } from './input-normalization';
export type { ChannelOrder, InputNormalizationInput, InputScaling, InputStatistics, ScalingVerdict } from './input-normalization';
export { calibratedOutOfFold, findLabelIssues, topLosses } from './label-quality';
export type { LabelIssue, LabelQualityInput, OutOfSamplePrediction } from './label-quality';
export { colorSignature, differenceHash, hammingDistance, maxSignatureDifference, rgbaToGray } from './perceptual-hash';
export type { SplitConsistencyInput, SplitSample } from './split-consistency';
export { findCrossSplitDuplicates } from './split-leakage';
export type { DuplicatePair, ImageFingerprint, SplitLeakageInput } from './split-leakage';
export { channelMoments, mergeChannelMoments, normalizedEntropy, toChannelStatistics } from './statistics';
export type { ChannelMoments, ChannelStatistics } from './statistics';
export type { StepPoint, TrainingHistory } from './training-history';
export { detectHeadShortOfProbe } from './head-vs-probe';
export type { HeadVsProbeInput } from './head-vs-probe';
