// Heavy parts of the page (recharts charts above all) rendered or updated in one commit make one
// long main-thread task. Here they take turns (./turns): one render per task, committed
// synchronously within it, so the browser paints and handles input between them.

import { useEffect, useRef, useState, type ReactNode } from 'react';
import { flushSync } from 'react-dom';
import { takeTurn } from './turns';

/**
 * Renders `children` in a turn of its own after the rest of the page, and follows their changes
 * the same way: at most one turn waits per instance, and it shows the newest children.
 */
export function Staggered({ order, children, placeholderHeight }: { order: number; children: ReactNode; placeholderHeight: number }) {
  const [shown, setShown] = useState<{ children: ReactNode } | null>(null);
  const latest = useRef(children);
  const cancel = useRef<(() => void) | null>(null);
  useEffect(() => {
    latest.current = children;
    if (cancel.current) return;
    cancel.current = takeTurn(order, () => {
      cancel.current = null;
      flushSync(() => setShown({ children: latest.current }));
    });
  }, [children, order]);
  useEffect(
    () => () => {
      cancel.current?.();
      cancel.current = null;
    },
    [],
  );
  return shown ? <>{shown.children}</> : <div style={{ height: placeholderHeight }} aria-hidden="true" />;
}

/**
 * For one component too heavy to mount in a single turn: counts from 1 up to `stages`, one turn
 * per stage, so the component can add its parts a few at a time.
 */
export function useStages(stages: number, order: number): number {
  const [stage, setStage] = useState(1);
  useEffect(() => {
    if (stage >= stages) return;
    return takeTurn(order, () => flushSync(() => setStage((s) => s + 1)));
  }, [stage, stages, order]);
  return stage;
}
