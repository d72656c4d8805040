// Starts the engine benchmark worker with the page's query (?backend=…&scenarios=…) and shows
// its results, for bench/engine-browser.ts to read (as text, as JSON in data-results and
// data-kernels, and the profiled run's ms per step in data-profiled-ms-per-step).

const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' });
const out = document.getElementById('out')!;
worker.onmessage = (message: MessageEvent<{ done: boolean; text: string; results: unknown[]; kernels: unknown[]; profiledMsPerStep: number }>) => {
  out.textContent = message.data.text;
  out.dataset.results = JSON.stringify(message.data.results);
  out.dataset.kernels = JSON.stringify(message.data.kernels);
  out.dataset.profiledMsPerStep = String(message.data.profiledMsPerStep);
  if (message.data.done) out.dataset.done = 'true';
};
worker.onerror = (event) => {
  out.textContent = `worker error: ${event.message}`;
  out.dataset.done = 'true';
};
worker.postMessage(location.search);
