// A helper thread of our wasm kernels (ml/kernels/kernel-threads.ts): it takes its one message,
// then blocks between calls until the training worker stops or ends it.

import { serveKernelThread, type KernelThreadInit } from '../ml/kernels/kernel-threads';

self.onmessage = (message: MessageEvent<KernelThreadInit>) => {
  self.onmessage = null;
  serveKernelThread(message.data);
};
