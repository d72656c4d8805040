// A view that redraws on every training step redraws hundreds of times a second on a cached run;
// what it shows only needs to follow a few times a second.

export interface Throttle<T> {
  push(value: T): void;
  cancel(): void;
}

/** Passes the values pushed on to `emit` at most once per `intervalMs`, always ending with the last. */
export function throttle<T>(intervalMs: number, emit: (value: T) => void): Throttle<T> {
  let latest: T;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let emittedAt = -Infinity;
  return {
    push(value) {
      latest = value;
      if (timer !== null) return;
      timer = setTimeout(
        () => {
          timer = null;
          emittedAt = Date.now();
          emit(latest);
        },
        Math.max(0, emittedAt + intervalMs - Date.now()),
      );
    },
    cancel() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
