// Starts the engine benchmark worker with the page's query (?backend=…&scenarios=…) and shows
// its results, for bench/engine-browser.ts to read.

const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' });
const out = document.getElementById('out')!;
worker.onmessage = (message: MessageEvent<{ done: boolean; text: string }>) => {
  out.textContent = message.data.text;
  if (message.data.done) out.dataset.done = 'true';
};
worker.onerror = (event) => {
  out.textContent = `worker error: ${event.message}`;
  out.dataset.done = 'true';
};
worker.postMessage(location.search);
