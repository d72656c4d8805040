// The dedicated worker that owns TensorFlow.js: it only routes each command to the session that
// handles it (model, dataset, training) and owns the pool of decoding workers.

import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { decodeImageBlob } from '../data/decode-image';
import type { DecodeReply, DecodeRequest } from '../data/decode-job';
import { createWorkerPool, type WorkerPool } from '../data/worker-pool';
import { filesModelSource, httpModelSource } from '../ml/model-source';
import { createDatasetSession } from './dataset-session';
import { createModelSession } from './model-session';
import { createTrainingSession } from './training-session';
import type { WorkerCommand, WorkerEvent } from './protocol';

const emit = (event: WorkerEvent, transfer: Transferable[] = []) => self.postMessage(event, { transfer });

// Decoding runs in a pool of its own workers, so the training worker stays free for tfjs.
let decodePool: WorkerPool<DecodeRequest, DecodeReply> | null = null;
const poolOf = (size?: number) => {
  if (!decodePool || (size !== undefined && size !== decodePool.size)) {
    decodePool?.destroy();
    decodePool = createWorkerPool<DecodeRequest, DecodeReply>({
      create: () => new Worker(new URL('./decode.worker.ts', import.meta.url), { type: 'module', name: 'decode' }),
      ...(size !== undefined ? { size } : {}),
    });
  }
  return decodePool;
};

const datasetSession = createDatasetSession({ emit, pool: poolOf });

const modelSession = createModelSession({
  emit,
  // A model trained from the old pretrained network cannot outlive it.
  beforeReplace: () => trainingSession.discard(),
  openSource: (ref) => (ref.kind === 'url' ? httpModelSource(ref.url) : filesModelSource(ref.files)),
  decode: decodeImageBlob,
  backendOptions: {
    wasmPaths: {
      'tfjs-backend-wasm.wasm': wasmPlain,
      'tfjs-backend-wasm-simd.wasm': wasmSimd,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
    },
    kernelThread: () => new Worker(new URL('./kernel.worker.ts', import.meta.url), { type: 'module', name: 'kernel' }),
  },
});

const trainingSession = createTrainingSession({
  emit,
  pretrained: () => modelSession.pretrained(),
  dataset: () => datasetSession.current(),
  pool: () => poolOf(),
  decode: decodeImageBlob,
  backend: () => modelSession.backend(),
  deviceLost: () => modelSession.deviceLost(),
  whenReady: () => modelSession.whenLoaded(),
});

self.onmessage = (message: MessageEvent<WorkerCommand>) => {
  const command = message.data;
  switch (command.type) {
    case 'model/load':
    case 'photo/classify':
      void modelSession.handle(command);
      break;
    case 'dataset/open':
    case 'dataset/sample':
    case 'dataset/thumbnails':
      void datasetSession.handle(command);
      break;
    default:
      void trainingSession.handle(command);
  }
};
