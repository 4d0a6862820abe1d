/** Exponential backoff with jitter, shared by capture restarts and exporter retries. */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** `full`: uniform in [0, d] (AWS "full jitter"); `equal`: uniform in [d/2, d]. */
  jitter?: 'full' | 'equal';
}

/** Delay before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const d = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(attempt, 30));
  return o.jitter === 'full' ? Math.round(random() * d) : Math.round(d / 2 + random() * (d / 2));
}
