// One queue of turns for the page's heavy renders: each turn runs in a task of its own, lower
// `order` first, with the event loop free between two turns (to paint and to handle input).

interface Turn {
  order: number;
  run: () => void;
}

const queue: Turn[] = [];
let scheduled = false;

/** Queues `run` for a task of its own; the returned function takes it off the queue if still there. */
export function takeTurn(order: number, run: () => void): () => void {
  const turn = { order, run };
  const at = queue.findIndex((t) => t.order > order);
  queue.splice(at === -1 ? queue.length : at, 0, turn);
  if (!scheduled) {
    scheduled = true;
    setTimeout(runNext, 0);
  }
  return () => {
    const i = queue.indexOf(turn);
    if (i !== -1) queue.splice(i, 1);
  };
}

function runNext() {
  const turn = queue.shift();
  try {
    turn?.run();
  } finally {
    if (queue.length) setTimeout(runNext, 0);
    else scheduled = false;
  }
}
