// Number formatting shared by the training views.

export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A short duration (an export, a prediction): milliseconds below a second. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A file size as the export buttons show it. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}

const CHANGE_LABELS = { freezeDepth: 'k', classWeighting: 'weights', learningRate: 'lr', batchNormPolicy: 'BN' } as const;

export function changeLabel(kind: keyof typeof CHANGE_LABELS, value: number | string): string {
  return `${CHANGE_LABELS[kind]}=${typeof value === 'number' && kind === 'learningRate' ? value.toExponential(0) : value}`;
}

export interface ChangeMark {
  x: number;
  label: string;
}

/**
 * One mark per position on a chart's x axis: changes that took effect at the same step share a
 * mark and a label ("k=1 · weights=off"), the last value of each kind winning.
 */
export function changeMarks<C extends { change: { kind: keyof typeof CHANGE_LABELS; value: number | string } }>(records: readonly C[], x: (record: C) => number): ChangeMark[] {
  const at = new Map<number, Map<string, string>>();
  for (const record of records) {
    const position = x(record);
    const labels = at.get(position) ?? new Map<string, string>();
    labels.set(record.change.kind, changeLabel(record.change.kind, record.change.value));
    at.set(position, labels);
  }
  return [...at].map(([position, labels]) => ({ x: position, label: [...labels.values()].join(' · ') }));
}
