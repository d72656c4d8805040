// The dedicated worker that owns TensorFlow.js: it only routes messages to the model session.

import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { decodeImageBlob } from '../data/decode-image';
import { filesModelSource, httpModelSource } from '../ml/model-source';
import { createModelSession } from './model-session';
import type { WorkerCommand, WorkerEvent } from './protocol';

const session = createModelSession({
  emit: (event: WorkerEvent) => self.postMessage(event),
  openSource: (ref) => (ref.kind === 'url' ? httpModelSource(ref.url) : filesModelSource(ref.files)),
  decode: decodeImageBlob,
  backendOptions: {
    wasmPaths: {
      'tfjs-backend-wasm.wasm': wasmPlain,
      'tfjs-backend-wasm-simd.wasm': wasmSimd,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
    },
  },
});

self.onmessage = (message: MessageEvent<WorkerCommand>) => {
  void session.handle(message.data);
};
