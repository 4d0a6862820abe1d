/**
 * Turns for background work: CSV export pages. However many exports run, at most one page of
 * theirs is done per event-loop turn, in the order they asked, so a request (/healthz, an
 * ingest) waits behind one page at most, never behind one page of every export. On an idle
 * service the turns come back to back and an export runs at full speed.
 */
const waiting: Array<() => void> = [];
let scheduled = false;

function pump(): void {
  scheduled = false;
  waiting.shift()?.();
  if (waiting.length) schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(pump);
}

/** Resolves on a later event-loop turn that no other background work is using. */
export function backgroundTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    schedule();
  });
}
