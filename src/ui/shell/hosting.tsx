// How the page is hosted, as main.tsx found it (src/hosting/register.ts), and the chip that says
// whether the lab works without the network.

import { createContext, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import { onWeightsStatus, weightsStatus, type HostingStatus } from '../../hosting/register';
import type { WeightsStatus } from '../../hosting/weights-cache';
import { useModelStatus } from '../../state/hooks';
import { formatBytes } from '../training/format';

export const HostingContext = createContext<HostingStatus | null>(null);

export const useHosting = () => useContext(HostingContext);

const subscribeOnline = (callback: () => void) => {
  window.addEventListener('online', callback);
  window.addEventListener('offline', callback);
  return () => {
    window.removeEventListener('online', callback);
    window.removeEventListener('offline', callback);
  };
};

/** The weights in the service worker's cache: asked when the model is ready, and told when stored. */
function useCachedWeights(): WeightsStatus | null {
  const hosting = useHosting();
  const modelReady = useModelStatus().status === 'ready';
  const [status, setStatus] = useState<WeightsStatus | null>(null);
  useEffect(() => {
    if (hosting?.serviceWorker !== 'controlling') return;
    let live = true;
    if (modelReady) void weightsStatus().then((s) => live && s && setStatus(s));
    const stop = onWeightsStatus((s) => live && setStatus(s));
    return () => {
      live = false;
      stop();
    };
  }, [hosting, modelReady]);
  return status;
}

export function OfflineStatus() {
  const online = useSyncExternalStore(subscribeOnline, () => navigator.onLine);
  const hosting = useHosting();
  const weights = useCachedWeights();
  const cached = weights?.complete === true;
  if (!online) {
    const title = hosting?.serviceWorker === 'controlling'
      ? 'No network: the lab runs from what this browser stored on an earlier visit.'
      : 'No network, and this page is not stored for offline use.';
    return <span className="badge badge-pending" data-testid="offline-status" data-state="offline" data-weights-cached={cached} title={title}>offline</span>;
  }
  if (cached) {
    return (
      <span className="badge" data-testid="offline-status" data-state="ready" data-weights-cached title={`The lab and its model (${formatBytes(weights.bytes)}) are stored in this browser: it opens without a network.`}>
        works offline
      </span>
    );
  }
  return null;
}
