// Which tfjs backend the worker actually runs on, and why better ones were skipped.

import { useBackend } from '../../state/hooks';
import { useHosting } from './hosting';

const LABELS = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WASM', cpu: 'CPU' } as const;

export function BackendBadge() {
  const backend = useBackend();
  const hosting = useHosting();
  if (backend.status === 'starting') {
    return <span className="badge badge-pending" data-testid="backend-badge">starting backend…</span>;
  }
  if (backend.status === 'lost') {
    return (
      <span className="badge badge-error" data-testid="backend-badge" data-backend="lost" title={backend.error.message}>
        GPU lost
      </span>
    );
  }
  if (backend.status === 'failed') {
    return (
      <span className="badge badge-error" data-testid="backend-badge" title={backend.error.message}>
        no backend
      </span>
    );
  }
  const { name, skipped, wasmThreads, crossOriginIsolated } = backend.info;
  const details = [
    backend.requested ? `${LABELS[backend.requested]} asked for (?backend= or Continue on WASM)` : 'chosen automatically',
    ...skipped.map((s) => `${LABELS[s.name]} skipped: ${s.reason}`),
    ...(name === 'wasm' ? [`${wasmThreads ?? 1} thread(s)${crossOriginIsolated ? '' : ' (page not cross-origin isolated)'}`] : []),
    ...(hosting?.reason ? [`${crossOriginIsolated ? 'Offline visits' : 'Not cross-origin isolated'}: ${hosting.reason}.`] : []),
  ];
  return (
    <span className="badge" data-testid="backend-badge" data-backend={name} data-threads={name === 'wasm' ? (wasmThreads ?? 1) : undefined} data-isolated={crossOriginIsolated} data-hosting={hosting?.serviceWorker} title={details.join('\n')}>
      {LABELS[name]}
      {name === 'wasm' && wasmThreads !== null ? ` · ${wasmThreads} thr` : ''}
    </span>
  );
}
