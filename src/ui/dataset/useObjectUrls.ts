// Object URLs for Blobs shown as images, revoked when the Blobs go away or the component unmounts.

import { useEffect, useMemo } from 'react';

export function useObjectUrls(blobs: readonly Blob[]): string[] {
  const urls = useMemo(() => blobs.map((blob) => URL.createObjectURL(blob)), [blobs]);
  useEffect(() => () => urls.forEach((url) => URL.revokeObjectURL(url)), [urls]);
  return urls;
}
