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

const CHANGE_LABELS = { freezeDepth: 'k', classWeighting: 'weights', learningRate: 'lr', batchNormPolicy: 'BN' } as const;

export function changeLabel(kind: keyof typeof CHANGE_LABELS, value: number | string): string {
  return `${CHANGE_LABELS[kind]}=${typeof value === 'number' && kind === 'learningRate' ? value.toExponential(0) : value}`;
}
