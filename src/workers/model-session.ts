// What the training worker does with the pretrained model: start a backend, load and warm up the
// model, classify photos. Kept apart from the worker entry so that it also runs in Node, with the
// decoder and model sources injected.

import * as tf from '@tensorflow/tfjs';
import { LabError, serializeError } from '../core/errors';
import type { RgbaImage } from '../core/image';
import { DEFAULT_PREPROCESS_SPEC, preprocessSpecHash } from '../core/preprocess-spec';
import { preprocessImage } from '../data/preprocess';
import { initBackend, onDeviceLost, type BackendOptions } from '../ml/backend';
import { classifyImageNet } from '../ml/classify';
import { loadPretrainedResNet50 } from '../ml/model-loader';
import type { ModelSource } from '../ml/model-source';
import { releaseFoldedWeights } from '../ml/folded-segment';
import { allSegments, runSegments, segmentResNet50, type Segment, type SegmentedResNet50 } from '../ml/segments';
import type { ModelSourceRef, WorkerCommand, WorkerEvent } from './protocol';

export interface ModelSessionDeps {
  emit: (event: WorkerEvent) => void;
  openSource: (ref: ModelSourceRef) => ModelSource;
  decode: (image: Blob, fileName: string) => Promise<RgbaImage>;
  backendOptions?: Omit<BackendOptions, 'force'>;
  now?: () => number;
}

export type ModelCommand = Extract<WorkerCommand, { type: 'model/load' | 'photo/classify' }>;

export interface ModelSession {
  handle(command: ModelCommand): Promise<void>;
  /** The loaded network, once loaded. */
  network(): SegmentedResNet50 | null;
  /** Its ImageNet class names, when labels.json came with it. */
  labels(): string[] | null;
  /** Set once the GPU device under the model is lost: nothing on this backend works from then on. */
  deviceLost(): LabError | null;
}

const TOP_CLASSES = 5;

function segmentParamCount(segment: Segment): number {
  return segment.layers.reduce((sum, { layer }) => sum + layer.trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => a! * b!, 1)!, 0), 0);
}

export function createModelSession(deps: ModelSessionDeps): ModelSession {
  const now = deps.now ?? (() => performance.now());
  let backendReady: Promise<boolean> | null = null;
  let pretrained: { net: SegmentedResNet50; labels: string[] | null; model: tf.LayersModel } | null = null;
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
        deps.emit({
          type: 'backend/ready',
          backend: {
            name: report.name,
            skipped: report.skipped,
            wasmThreads: report.wasmThreads ?? null,
            crossOriginIsolated: globalThis.crossOriginIsolated === true,
          },
        });
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
    const started = now();
    try {
      const loaded = await loadPretrainedResNet50(deps.openSource(command.source), {
        onProgress: (fraction) => deps.emit({ type: 'model/loading', fraction }),
      });
      const loadMs = now() - started;
      const net = segmentResNet50(loaded.model);
      const warmStart = now();
      const size = DEFAULT_PREPROCESS_SPEC.sizePx;
      const probe = tf.tidy(() => runSegments(allSegments(net), tf.zeros([1, size, size, 3]))); // [1, 1000]
      await probe.data();
      probe.dispose();
      if (pretrained) {
        releaseFoldedWeights(allSegments(pretrained.net));
        pretrained.model.dispose();
      }
      pretrained = { net, labels: loaded.labels, model: loaded.model };
      deps.emit({
        type: 'model/loaded',
        model: {
          layers: loaded.model.layers.length,
          parameters: loaded.model.countParams(),
          weightBytes: loaded.weightBytes,
          hasLabels: loaded.labels !== null,
          loadMs,
          warmupMs: now() - warmStart,
          segmentParams: { stem: segmentParamCount(net.stem), blocks: net.blocks.map(segmentParamCount) },
        },
      });
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
    network: () => pretrained?.net ?? null,
    labels: () => pretrained?.labels ?? null,
    deviceLost: () => lost,
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
