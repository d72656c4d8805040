// Object URLs for Blobs shown as images, shared per Blob and revoked a moment after the last
// component using one unmounts. The delay matters: StrictMode (development) unmounts and mounts
// every component once more, which would otherwise revoke a URL the image still shows.

import { useEffect } from 'react';

const REVOKE_DELAY_MS = 2_000;

interface Entry {
  url: string;
  users: number;
  timer: ReturnType<typeof setTimeout> | null;
}

const registry = new Map<Blob, Entry>();

function scheduleRevoke(blob: Blob, entry: Entry): void {
  entry.timer = setTimeout(() => {
    URL.revokeObjectURL(entry.url);
    registry.delete(blob);
  }, REVOKE_DELAY_MS);
}

function urlOf(blob: Blob): string {
  let entry = registry.get(blob);
  if (!entry) {
    entry = { url: URL.createObjectURL(blob), users: 0, timer: null };
    registry.set(blob, entry);
    scheduleRevoke(blob, entry); // a render that never mounts must not leak it
  }
  return entry.url;
}

function acquire(blob: Blob): void {
  urlOf(blob);
  const entry = registry.get(blob)!;
  if (entry.timer) clearTimeout(entry.timer);
  entry.timer = null;
  entry.users += 1;
}

function release(blob: Blob): void {
  const entry = registry.get(blob);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users <= 0) scheduleRevoke(blob, entry);
}

export function useObjectUrls(blobs: readonly Blob[]): string[] {
  useEffect(() => {
    blobs.forEach(acquire);
    return () => blobs.forEach(release);
  }, [blobs]);
  return blobs.map(urlOf);
}

/** One Blob's object URL (undefined while there is no Blob). */
export function useObjectUrl(blob: Blob | undefined): string | undefined {
  useEffect(() => {
    if (!blob) return;
    acquire(blob);
    return () => release(blob);
  }, [blob]);
  return blob ? urlOf(blob) : undefined;
}
