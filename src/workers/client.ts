// The page's end of the training worker: typed commands out, typed events in, and a crash of
// the worker turned into an event instead of silence.

import type { WorkerCommand, WorkerEvent } from './protocol';

export interface WorkerChannel {
  send(command: WorkerCommand): void;
  subscribe(listener: (event: WorkerEvent) => void): () => void;
  /** Ends the current worker and starts a fresh one (after a crash, without reloading the page). */
  restart(): void;
}

export function createTrainingWorker(): WorkerChannel {
  const listeners = new Set<(event: WorkerEvent) => void>();
  const dispatch = (event: WorkerEvent) => listeners.forEach((listener) => listener(event));
  let worker: Worker;

  const start = () => {
    worker = new Worker(new URL('./training.worker.ts', import.meta.url), { type: 'module', name: 'training' });
    worker.onmessage = (message: MessageEvent<WorkerEvent>) => dispatch(message.data);
    worker.onerror = (event) => {
      event.preventDefault();
      dispatch({ type: 'worker/died', error: { code: 'worker/died', message: `The training worker crashed: ${event.message || 'no message'}.` } });
    };
    worker.onmessageerror = () => {
      dispatch({ type: 'worker/died', error: { code: 'worker/died', message: 'A message from the training worker could not be read.' } });
    };
  };
  start();

  return {
    send: (command) => worker.postMessage(command),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    restart() {
      worker.terminate();
      start();
    },
  };
}
