// What the training worker does with the pretrained model: start a backend, load and warm up the
// model, classify photos. Kept apart from the worker entry so that it also runs in Node, with the
// decoder and model sources injected.

import type { BackendInfo } from '../core/backends';
import { LabError, serializeError } from '../core/errors';
import type { RgbaImage } from '../core/image';
import { preprocessSpecHash } from '../core/preprocess-spec';
import { preprocessImage } from '../data/preprocess';
import { initBackend, onDeviceLost, type BackendOptions } from '../ml/backend';
import { classifyImageNet } from '../ml/classify';
import type { ModelSource } from '../ml/model-source';
import { disposePretrainedNetwork, loadPretrainedNetwork, type PretrainedNetwork } from '../ml/pretrained-network';
import type { ModelSourceRef, WorkerCommand, WorkerEvent } from './protocol';

export interface ModelSessionDeps {
  emit: (event: WorkerEvent) => void;
  openSource: (ref: ModelSourceRef) => ModelSource;
  decode: (image: Blob, fileName: string) => Promise<RgbaImage>;
  backendOptions?: Omit<BackendOptions, 'force'>;
  /** Called before a newly loaded network replaces the one in use (whatever was trained from it goes). */
  beforeReplace?: () => void;
  now?: () => number;
}

export type ModelCommand = Extract<WorkerCommand, { type: 'model/load' | 'photo/classify' }>;

export interface ModelSession {
  handle(command: ModelCommand): Promise<void>;
  /** The loaded network, once loaded (read-only: runs train copies of its segments). */
  pretrained(): PretrainedNetwork | null;
  /** The backend the worker got, once it started. */
  backend(): BackendInfo | null;
  /** Set once the GPU device under the model is lost: nothing on this backend works from then on. */
  deviceLost(): LabError | null;
  /** Settles when the load in progress has (successfully or not); at once when none is. */
  whenLoaded(): Promise<void>;
}

const TOP_CLASSES = 5;

export function createModelSession(deps: ModelSessionDeps): ModelSession {
  const now = deps.now ?? (() => performance.now());
  let backendReady: Promise<boolean> | null = null;
  let pretrained: PretrainedNetwork | null = null;
  let backend: BackendInfo | null = null;
  let loading: Promise<void> | null = null;
  let lost: LabError | null = null;

  function startBackend(force: WorkerCommand & { type: 'model/load' }): Promise<boolean> {
    backendReady ??= initBackend({
      ...deps.backendOptions,
      ...(force.backend ? { force: force.backend } : {}),
      ...(force.wasmThreads ? { wasmThreads: force.wasmThreads } : {}),
    }).then(
      (report) => {
        onDeviceLost((reason) => {
          lost = new LabError(
            'backend/device-lost',
            `The GPU device was lost (${reason}), and the model with it. What the page shows stays; continue on WASM to go on working.`,
          );
          deps.emit({ type: 'backend/lost', error: serializeError(lost) });
        });
        backend = {
          name: report.name,
          skipped: report.skipped,
          wasmThreads: report.wasmThreads ?? null,
          crossOriginIsolated: globalThis.crossOriginIsolated === true,
        };
        deps.emit({ type: 'backend/ready', backend });
        return true;
      },
      (error: unknown) => {
        // Not kept: the next model/load tries again.
        backendReady = null;
        deps.emit({ type: 'backend/failed', error: serializeError(error) });
        return false;
      },
    );
    return backendReady;
  }

  async function load(command: WorkerCommand & { type: 'model/load' }): Promise<void> {
    if (lost) {
      deps.emit({ type: 'model/failed', error: serializeError(lost) });
      return;
    }
    if (!(await startBackend(command))) return;
    try {
      const network = await loadPretrainedNetwork(deps.openSource(command.source), {
        onProgress: (fraction) => deps.emit({ type: 'model/loading', fraction }),
        now,
      });
      if (pretrained) {
        deps.beforeReplace?.();
        disposePretrainedNetwork(pretrained);
      }
      pretrained = network;
      const { layers, parameters, weightBytes, loadMs, warmupMs, segmentParams } = network;
      deps.emit({ type: 'model/loaded', model: { layers, parameters, weightBytes, hasLabels: network.labels !== null, loadMs, warmupMs, segmentParams } });
    } catch (error) {
      deps.emit({ type: 'model/failed', error: serializeError(lost ?? error) });
    }
  }

  async function classify(command: WorkerCommand & { type: 'photo/classify' }): Promise<void> {
    const { requestId, fileName } = command;
    try {
      await loading;
      if (lost) throw lost;
      if (!pretrained) throw new LabError('model/not-found', 'The pretrained model is not loaded yet.');
      const started = now();
      const image = await deps.decode(command.image, fileName);
      const pixels = preprocessImage(image, command.spec);
      const forwardStart = now();
      const [top] = await classifyImageNet(pretrained.net, pretrained.labels, pixels, command.spec.sizePx, TOP_CLASSES);
      deps.emit({
        type: 'photo/classified',
        result: {
          requestId,
          fileName,
          width: image.width,
          height: image.height,
          normalization: command.spec.normalization,
          specHash: preprocessSpecHash(command.spec),
          top: top ?? [],
          preprocessMs: forwardStart - started,
          forwardMs: now() - forwardStart,
        },
      });
    } catch (error) {
      deps.emit({ type: 'photo/failed', requestId, fileName, error: serializeError(lost ?? error) });
    }
  }

  return {
    pretrained: () => pretrained,
    backend: () => backend,
    deviceLost: () => lost,
    whenLoaded: async () => {
      await loading;
    },
    handle(command) {
      switch (command.type) {
        case 'model/load':
          loading = load(command);
          return loading;
        case 'photo/classify':
          return classify(command);
      }
    },
  };
}
