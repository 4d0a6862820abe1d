/**
 * Alignment of two reads (Needleman–Wunsch): reads of different lengths are compared
 * position by position. Look-alike substitutions (O/0, B/8…) cost half a mismatch, so an
 * engine that read a digit where another read its look-alike letter still lines up.
 */
import { areConfusable } from '../../shared/plate/index.js';

/** Pairs of indexes into `a` and `b`; -1 marks a gap on that side. */
export type Alignment = [number, number][];

export function align(a: string, b: string): Alignment {
  const n = a.length;
  const m = b.length;
  const cost = new Float64Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => i * (m + 1) + j;
  for (let i = 0; i <= n; i++) cost[at(i, 0)] = i;
  for (let j = 0; j <= m; j++) cost[at(0, j)] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const sub = a[i - 1] === b[j - 1] ? 0 : areConfusable(a[i - 1], b[j - 1]) ? 0.5 : 1;
      cost[at(i, j)] = Math.min(cost[at(i - 1, j - 1)] + sub, cost[at(i - 1, j)] + 1, cost[at(i, j - 1)] + 1);
    }
  }
  const pairs: Alignment = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0) {
      const sub = a[i - 1] === b[j - 1] ? 0 : areConfusable(a[i - 1], b[j - 1]) ? 0.5 : 1;
      if (cost[at(i, j)] === cost[at(i - 1, j - 1)] + sub) {
        pairs.push([--i, --j]);
        continue;
      }
    }
    if (i > 0 && cost[at(i, j)] === cost[at(i - 1, j)] + 1) pairs.push([--i, -1]);
    else pairs.push([-1, --j]);
  }
  return pairs.reverse();
}

/** Edit distance with look-alikes at half cost. */
export function plateDistance(a: string, b: string): number {
  let d = 0;
  for (const [i, j] of align(a, b)) d += i < 0 || j < 0 ? 1 : a[i] === b[j] ? 0 : areConfusable(a[i], b[j]) ? 0.5 : 1;
  return d;
}
