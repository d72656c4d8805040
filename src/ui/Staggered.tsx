// Mounts its children a little after the rest of the page: heavy charts mounted together make one
// long main-thread task; mounted one per turn of the event loop, each stays short.

import { useEffect, useState, type ReactNode } from 'react';

const STAGGER_MS = 16;

export function Staggered({ order, children, placeholderHeight }: { order: number; children: ReactNode; placeholderHeight: number }) {
  const [shown, setShown] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setShown(true), order * STAGGER_MS);
    return () => clearTimeout(timer);
  }, [order]);
  return shown ? <>{children}</> : <div style={{ height: placeholderHeight }} aria-hidden="true" />;
}
