// The messages between the page and the training worker: commands in, past-tense events out.
// Plain data only (structured-clone safe); tensors never cross, typed arrays and Blobs do.

import type { BackendInfo, BackendName } from '../core/backends';
import type { DatasetIndex, IngestIssue, SplitName } from '../core/dataset';
import type { SplitOptions } from '../core/splits';
import type { SerializedError } from '../core/errors';
import type { NormalizationMode, PreprocessSpec } from '../core/preprocess-spec';
import type { LabelledClass } from '../core/top-k';
import type { BatchNormPolicy } from '../core/training-config';
import type { ChangeRecord, EpochRecord, RunSettings, StepRecord, TrainingState } from '../core/run-records';
import type { RunLog } from '../core/run-report';
import type { ClassWeighting } from '../core/class-weights';
import type { Finding } from '../core/diagnostics';

export type { BackendInfo, ChangeRecord, EpochRecord, RunSettings, StepRecord };

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
      /** Images filed under another of the drop's classes than their folder's, by path: the user's relabels. */
      relabel?: Record<string, string>;
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
      requestId: number;
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

export type TrainingCommand =
  /** `continue`: "train more" from the kept model (its weights, optimizer state and step); false: a new model from the pretrained weights. */
  | { type: 'train/start'; settings: RunSettings; continue: boolean }
  /**
   * A run cut off by a reload or a crash, from the training state its run history saved at an
   * epoch's end: a new model with that state goes on to the run's planned end, on the open
   * dataset, which must hold the files the run trained on (`log.dataset.files`). `log` is the
   * run's as far as that epoch; `logId` names it again, so its saves go to the same stored run.
   */
  | { type: 'train/resumeSaved'; logId: string; log: RunLog; state: TrainingState }
  /** The checks that need no training (input scaling, splits, data, leakage, balance), on the open dataset with these settings; answered by diagnostics/updated 'before-training'. */
  | { type: 'train/check'; settings: RunSettings }
  | { type: 'train/pause' }
  | { type: 'train/resume' }
  | { type: 'train/stop' }
  | { type: 'train/setFreezeDepth'; value: number }
  | { type: 'train/setClassWeighting'; value: ClassWeighting }
  | { type: 'train/setLearningRate'; value: number }
  | { type: 'train/setBatchNormPolicy'; value: BatchNormPolicy }
  /** Frees the kept model (a run's or an imported one); the pretrained network stays. */
  | { type: 'trained/discard' }
  /** A zip that `trained/export` with format 'tfjs' wrote: it becomes the kept model. */
  | { type: 'trained/import'; file: File }
  /** Top classes (and, when asked, a Grad-CAM heat map) of each image with the kept model. */
  | { type: 'trained/predict'; requestId: number; images: { path: string; image: Blob }[]; heatMaps: boolean }
  /**
   * 'tfjs': the classifier as a TensorFlow.js layers model zip; 'onnx': the classifier as one
   * .onnx file; 'pytorch': the run as a PyTorch project (src/ml/pytorch-project.ts); 'run':
   * run.json and metrics.csv.
   * `to: 'history'`: for the run history (the page keeps it with the run), not a download.
   */
  | { type: 'trained/export'; format: ExportFormat; to?: 'history' }
  /** Early stopping after the fact: the kept model goes back to its weights at the epoch of lowest validation loss; a run in progress stops first. */
  | { type: 'trained/restoreBest' };

export type ExportFormat = 'tfjs' | 'onnx' | 'pytorch' | 'run';

/** The model a run leaves (or an import brings): it stays, and trains more, until discarded. */
export interface TrainedModelInfo {
  origin: 'run' | 'imported';
  /** The zip's name, for an imported model. */
  fileName: string | null;
  classNames: string[];
  /** How images are prepared for it: the run's validation spec. */
  spec: PreprocessSpec;
  /** Steps and epochs trained so far, over every run of this model. */
  steps: number;
  epochs: number;
  /** Segments with weights of its own ('res5c', …, 'stem'), input side first; the others are the pretrained network's, shared. */
  trainedSegments: string[];
  /** Parameters of the whole classifier. */
  parameters: number;
  /** The (0-based) epoch of lowest validation loss so far, and the epoch whose weights the model has gone back to, if it did. */
  bestEpoch: { epoch: number; loss: number } | null;
  restoredEpoch: number | null;
}

export interface HeatMap {
  /** The class the map explains (the top-1). */
  classIndex: number;
  /** The last conv block's grid, e.g. 7 × 7 at 224 px. */
  width: number;
  height: number;
  /** Row-major, 0..1 (divided by the largest value). */
  values: Float32Array;
}

export interface ImagePrediction {
  requestId: number;
  /** The file's path within what was picked or dropped. */
  path: string;
  width: number;
  height: number;
  /** Up to three classes, most probable first. */
  top: LabelledClass[];
  heatMap: HeatMap | null;
  /** Decode + preprocess + forward (without the heat map's gradient). */
  ms: number;
  heatMapMs: number | null;
}

export interface ExportedFile {
  format: ExportFormat;
  fileName: string;
  bytes: Uint8Array;
  ms: number;
  /** Asked for the run history rather than a download. */
  to?: 'history';
  /** The kept model's run log (history/log), when it trained here. */
  logId?: string | null;
}

export interface RunInfo {
  classNames: string[];
  trainCount: number;
  validationCount: number;
  stepsPerEpoch: number;
  settings: RunSettings;
  /** Dataset path of each validation image, in the order of predictions. */
  validationPaths: string[];
  validationLabels: number[];
  /** "Train more": the steps, epochs and changes of the model's earlier runs stay on the charts. */
  continued: boolean;
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
  | { type: 'dataset/sampleFailed'; requestId: number; split: SplitName; error: SerializedError }
  /** Paths whose previews could not be read are left out; a request that failed as a whole says so here. */
  | { type: 'dataset/thumbnails'; requestId: number; thumbnails: { path: string; image: Blob }[] }
  | { type: 'dataset/thumbnailsFailed'; requestId: number; error: SerializedError }
  | { type: 'dataset/failed'; error: SerializedError }
  | { type: 'train/started'; run: RunInfo }
  | { type: 'train/stepEnded'; step: StepRecord }
  | { type: 'train/epochEnded'; epoch: EpochRecord }
  | { type: 'train/changeApplied'; change: ChangeRecord }
  | { type: 'train/paused'; reason: 'user' | 'non-finite-loss'; message?: string }
  | { type: 'train/resumed' }
  | { type: 'train/finished'; status: 'completed' | 'stopped'; steps: number }
  | { type: 'train/failed'; error: SerializedError }
  | { type: 'train/warning'; message: string }
  | { type: 'trained/ready'; model: TrainedModelInfo }
  | { type: 'trained/discarded' }
  | { type: 'trained/importFailed'; fileName: string; error: SerializedError }
  | { type: 'trained/predicted'; prediction: ImagePrediction }
  | { type: 'trained/predictFailed'; requestId: number; path: string; error: SerializedError }
  | { type: 'trained/exported'; file: ExportedFile }
  | { type: 'trained/exportFailed'; format: ExportFormat; error: SerializedError; to?: 'history' }
  /**
   * The diagnostics of the current run: before training starts, and after every epoch. `sequence`
   * grows with every update the worker sends: an older one never replaces a newer one.
   */
  | { type: 'diagnostics/updated'; stage: 'before-training' | 'during-training' | 'after-training'; sequence: number; findings: Finding[] }
  /**
   * The current model's run log, as it stands: at a run's start, after each diagnosis and at its
   * end. `logId` names it for the page's run history ("train more" keeps it).
   */
  | { type: 'history/log'; logId: string; log: RunLog }
  /**
   * The run's training state at the end of an epoch, for resuming it after a reload or a crash
   * (its arrays are transferred), with the run log as it stood then.
   */
  | { type: 'history/state'; logId: string; state: TrainingState; log: RunLog }
  /** Sent by the page's side of the channel when the worker itself crashed. */
  | { type: 'worker/died'; error: SerializedError };
