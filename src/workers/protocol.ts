// The messages between the page and the training worker: commands in, past-tense events out.
// Plain data only (structured-clone safe); tensors never cross, typed arrays and Blobs do.

import type { BackendName } from '../core/backends';
import type { SerializedError } from '../core/errors';
import type { NormalizationMode, PreprocessSpec } from '../core/preprocess-spec';
import type { LabelledClass } from '../core/top-k';

/** Where the worker gets the model: the URL beside the page, or files the user picked. */
export type ModelSourceRef = { kind: 'url'; url: string } | { kind: 'files'; files: File[] };

export type WorkerCommand =
  | {
      type: 'model/load';
      source: ModelSourceRef;
      /** Force a backend (the page's `?backend=`), or null to take the best that works. */
      backend: BackendName | null;
    }
  | {
      type: 'photo/classify';
      requestId: number;
      fileName: string;
      image: Blob;
      spec: PreprocessSpec;
    };

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
  | { type: 'model/loading'; fraction: number }
  | { type: 'model/loaded'; model: ModelInfo }
  | { type: 'model/failed'; error: SerializedError }
  | { type: 'photo/classified'; result: PhotoClassification }
  | { type: 'photo/failed'; requestId: number; fileName: string; error: SerializedError }
  /** Sent by the page's side of the channel when the worker itself crashed. */
  | { type: 'worker/died'; error: SerializedError };
