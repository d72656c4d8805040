// The tfjs backends the lab knows, fastest first. Named here so the page can talk about them
// without importing tfjs.

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

export const BACKEND_PREFERENCE: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (BACKEND_PREFERENCE as readonly string[]).includes(value);
}

/** The backend the training worker got, as the page shows it and run.json records it. */
export interface BackendInfo {
  name: BackendName;
  skipped: { name: BackendName; reason: string }[];
  /** wasm only: the threads the backend reports (1 when the page is not cross-origin isolated). */
  wasmThreads: number | null;
  crossOriginIsolated: boolean;
}
