// The messages between the page and the training worker: commands in, past-tense events out.
// Plain data only (structured-clone safe); tensors never cross, typed arrays and Blobs do.

import type { BackendName } from '../core/backends';
import type { DatasetIndex, IngestIssue, SplitName } from '../core/dataset';
import type { SplitOptions } from '../core/splits';
import type { SerializedError } from '../core/errors';
import type { NormalizationMode, PreprocessSpec } from '../core/preprocess-spec';
import type { ClassificationMetrics } from '../core/metrics';
import type { LabelledClass } from '../core/top-k';
import type { BatchNormPolicy, TrainingConfig } from '../core/training-config';
import type { ClassWeighting } from '../core/class-weights';
import type { Finding } from '../core/diagnostics';

/** Where the worker gets the model: the URL beside the page, or files the user picked. */
export type ModelSourceRef = { kind: 'url'; url: string } | { kind: 'files'; files: File[] };

export type WorkerCommand =
  | TrainingCommand
  | {
      type: 'model/load';
      source: ModelSourceRef;
      /** Force a backend (the page's `?backend=`), or null to take the best that works. */
      backend: BackendName | null;
      /** WASM threads (the page's `?threads=`). Default: every logical core. */
      wasmThreads?: number;
    }
  | {
      type: 'photo/classify';
      requestId: number;
      fileName: string;
      image: Blob;
      spec: PreprocessSpec;
    }
  | {
      type: 'dataset/open';
      /** Every file and folder of the drop; folders have `file: null`. */
      files: { path: string; file: File | null }[];
      split: SplitOptions;
      /** Decoding workers (the page's `?decodeWorkers=`). Default: cores − 1. */
      decodeWorkers?: number;
    }
  | {
      /** Preprocess the first `count` images of a split, as training would, and report their statistics. */
      type: 'dataset/sample';
      requestId: number;
      split: SplitName;
      count: number;
      /** The run's scaling for this split (default: the dataset's spec, caffe). */
      normalization?: NormalizationMode;
      /** The run's input size (default: the dataset's spec, 224). */
      sizePx?: number;
    }
  | {
      /** Small previews of these dataset images (e.g. the images behind a confusion-matrix cell). */
      type: 'dataset/thumbnails';
      paths: string[];
    };

/** What the page shows of a dataset: no file contents, no File objects. */
export type DatasetSummary = Omit<DatasetIndex, 'entries'> & { imageCount: number };

export interface DatasetScan {
  /** Images that decoded. */
  decoded: number;
  widths: { min: number; median: number; max: number };
  heights: { min: number; median: number; max: number };
  grayCount: number;
  alphaCount: number;
  /** Larger than the decode limit: read at reduced size. */
  downscaledCount: number;
  formats: Record<string, number>;
  /** A few per class. */
  thumbnails: { classIndex: number; path: string; image: Blob }[];
  /** Files that failed to decode: left out of every split. */
  failures: IngestIssue[];
  /** Counts per split and class once the failures are left out. */
  counts: Record<SplitName, number[]>;
  ms: number;
}

export interface DatasetSample {
  requestId: number;
  split: SplitName;
  count: number;
  specHash: string;
  normalization: NormalizationMode;
  /** FNV-1a over the float bits of every pixel: equal batches have equal checksums. */
  checksum: string;
  /** Per channel, in the order fed to the network. */
  channelMeans: [number, number, number];
  channelStds: [number, number, number];
}

/** Settings a run starts with: the engine's, plus how images are prepared. */
export interface RunSettings {
  config: TrainingConfig;
  /** Side of the network input, px. */
  sizePx: number;
  /** Random resized crop + flip on the training split (turns the feature cache off). */
  augment: boolean;
  /** How pixels are scaled for these weights. Default: 'caffe' (what they expect). */
  normalization: NormalizationMode;
  /** A different scaling for validation, set only on purpose (to reproduce a bug); null: the same. */
  validationNormalization: NormalizationMode | null;
}

export type TrainingCommand =
  | { type: 'train/start'; settings: RunSettings }
  | { type: 'train/pause' }
  | { type: 'train/resume' }
  | { type: 'train/stop' }
  | { type: 'train/setFreezeDepth'; value: number }
  | { type: 'train/setClassWeighting'; value: ClassWeighting }
  | { type: 'train/setLearningRate'; value: number }
  | { type: 'train/setBatchNormPolicy'; value: BatchNormPolicy };

export interface RunInfo {
  classNames: string[];
  trainCount: number;
  validationCount: number;
  stepsPerEpoch: number;
  settings: RunSettings;
  /** Dataset path of each validation image, in the order of predictions. */
  validationPaths: string[];
  validationLabels: number[];
}

export interface StepInfo {
  step: number;
  epoch: number;
  loss: number;
  learningRate: number;
  freezeDepth: number;
  trainableParams: number;
  classWeights: number[];
  batchSize: number;
  ms: number;
}

export interface EpochInfo {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  validation: { loss: number; metrics: ClassificationMetrics; predictions: number[] } | null;
  cache: { entries: number; bytes: number; full: boolean };
  ms: number;
}

export interface ChangeInfo {
  step: number;
  kind: 'freezeDepth' | 'classWeighting' | 'learningRate' | 'batchNormPolicy';
  value: number | string;
  trainableParams: number;
}

export interface BackendInfo {
  name: BackendName;
  skipped: { name: BackendName; reason: string }[];
  /** wasm only: the threads the backend reports (1 when the page is not cross-origin isolated). */
  wasmThreads: number | null;
  crossOriginIsolated: boolean;
}

export interface ModelInfo {
  layers: number;
  parameters: number;
  weightBytes: number;
  hasLabels: boolean;
  /** From the first byte requested to a built model. */
  loadMs: number;
  /** One forward at the default input size, so that shaders are compiled before `ready`. */
  warmupMs: number;
  /** Trainable parameters of the stem and of each block (input side first). */
  segmentParams: { stem: number; blocks: number[] };
}

export interface PhotoClassification {
  requestId: number;
  fileName: string;
  width: number;
  height: number;
  normalization: NormalizationMode;
  specHash: string;
  top: LabelledClass[];
  /** Decode + preprocess, in the worker. */
  preprocessMs: number;
  /** The network's forward pass alone. */
  forwardMs: number;
}

export type WorkerEvent =
  | { type: 'backend/ready'; backend: BackendInfo }
  | { type: 'backend/failed'; error: SerializedError }
  /** The GPU device went away: the model on it is gone, the worker lives on. */
  | { type: 'backend/lost'; error: SerializedError }
  | { type: 'model/loading'; fraction: number }
  | { type: 'model/loaded'; model: ModelInfo }
  | { type: 'model/failed'; error: SerializedError }
  | { type: 'photo/classified'; result: PhotoClassification }
  | { type: 'photo/failed'; requestId: number; fileName: string; error: SerializedError }
  | { type: 'dataset/indexed'; dataset: DatasetSummary }
  | { type: 'dataset/scanning'; done: number; total: number }
  | { type: 'dataset/scanned'; scan: DatasetScan }
  | { type: 'dataset/sampled'; sample: DatasetSample }
  | { type: 'dataset/thumbnails'; thumbnails: { path: string; image: Blob }[] }
  | { type: 'dataset/failed'; error: SerializedError }
  | { type: 'train/started'; run: RunInfo }
  | { type: 'train/stepEnded'; step: StepInfo }
  | { type: 'train/epochEnded'; epoch: EpochInfo }
  | { type: 'train/changeApplied'; change: ChangeInfo }
  | { type: 'train/paused'; reason: 'user' | 'non-finite-loss'; message?: string }
  | { type: 'train/resumed' }
  | { type: 'train/finished'; status: 'completed' | 'stopped'; steps: number }
  | { type: 'train/failed'; error: SerializedError }
  | { type: 'train/warning'; message: string }
  /** The diagnostics of the current run: before training starts, and after every epoch. */
  | { type: 'diagnostics/updated'; stage: 'before-training' | 'during-training' | 'after-training'; findings: Finding[] }
  /** Sent by the page's side of the channel when the worker itself crashed. */
  | { type: 'worker/died'; error: SerializedError };
