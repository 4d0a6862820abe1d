/**
 * The cost of turning a read into a list entry: a weighted Levenshtein distance over
 * normalised plates (shared/plate `normalizePlate`), the one measure the index and its
 * brute-force proof share.
 *
 * The rule (per list, from its `match`):
 * - `mode: "confusable"`: substituting a look-alike (shared/plate `areConfusable`: O/0, I/1,
 *   B/8, S/5, Z/2, and letters that share a digit look-alike such as O/D) costs
 *   `confusable_cost`; any other substitution, insertion or deletion costs 1.
 * - `mode: "exact"`: every edit costs 1, look-alikes included (plain Levenshtein). With the
 *   default `max_distance: 0` that is string equality; `max_distance: 1` accepts one edit of
 *   any kind. A fractional `max_distance` below 1 is therefore the same as 0 in exact mode.
 * - A read matches when its total cost is at most `max_distance` (compared with a tolerance
 *   of {@link COST_EPSILON}, so three swaps at 0.1 fit a `max_distance` of 0.3).
 *
 * Guarantee the index relies on: folding look-alikes (`foldCode`, the same fold as
 * `canonicalPlate`) turns a look-alike swap into no edit at all, so two plates within
 * weighted cost `d` have folded forms within plain Levenshtein `floor(d)`.
 */
import { LETTER_TO_DIGIT } from '../plate/confusables.js';

/** Tolerance of the `≤ max_distance` comparison (costs are decimal fractions in floating point). */
export const COST_EPSILON = 1e-9;

/** Char code → the char code of its look-alike class (`canonicalPlate` per character). */
const FOLD = new Uint8Array(128).map((_, i) => i);
for (const [letter, digit] of Object.entries(LETTER_TO_DIGIT)) FOLD[letter.charCodeAt(0)] = digit.charCodeAt(0);

/** The look-alike class of one character code of a normalised plate (A-Z, 0-9). */
export const foldCode = (code: number): number => (code < 128 ? FOLD[code] : code);

/** How one list prices edits. */
export interface EditCosts {
  /** Whether look-alike swaps get their own price (`match.mode === 'confusable'`). */
  confusable: boolean;
  /** Price of one look-alike swap in confusable mode, 0-1. */
  confusableCost: number;
}

// Two reusable rows: plates are short (a normalised read longer than MAX_ROW is never compared).
const MAX_ROW = 256;
let prev = new Float64Array(MAX_ROW + 1);
let cur = new Float64Array(MAX_ROW + 1);

/**
 * The weighted edit distance from `a` to `b` (both normalised), or `Infinity` as soon as it is
 * certain to exceed `limit` (plus {@link COST_EPSILON}). Synchronous, allocation-free.
 */
export function plateDistance(a: string, b: string, costs: EditCosts, limit = Infinity): number {
  const n = a.length;
  const m = b.length;
  const bound = limit + COST_EPSILON;
  if (Math.abs(n - m) > bound) return Infinity;
  if (m > MAX_ROW) throw new RangeError(`plateDistance: plate longer than ${MAX_ROW} characters`);
  const swap = costs.confusable ? costs.confusableCost : 1;
  for (let j = 0; j <= m; j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    const ca = a.charCodeAt(i - 1);
    const fa = foldCode(ca);
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= m; j++) {
      const cb = b.charCodeAt(j - 1);
      const sub = ca === cb ? 0 : fa === foldCode(cb) ? swap : 1;
      let v = prev[j - 1] + sub;
      const del = prev[j] + 1;
      if (del < v) v = del;
      const ins = cur[j - 1] + 1;
      if (ins < v) v = ins;
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > bound) return Infinity;
    const t = prev;
    prev = cur;
    cur = t;
  }
  const d = prev[m];
  return d > bound ? Infinity : d;
}

/** Whole-edit budget of a list: the plain Levenshtein radius its folded forms must fall within. */
export const editBudget = (maxDistance: number): number => Math.floor(maxDistance + COST_EPSILON);
