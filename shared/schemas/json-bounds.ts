/**
 * Bounds on free-form JSON values (metadata, sensor and exporter config, model parameters).
 *
 * Guarantees:
 * - Nothing here recurses: a value nested 100,000 levels deep is walked with an explicit
 *   stack, so measuring it cannot overflow the call stack (JSON.stringify, structuredClone
 *   and recursive merges can; they only ever see values that passed `jsonTooDeep`).
 * - `clampDepth` turns any value, however deep, into one at most `maxDepth` levels deep;
 *   what lay deeper is replaced by the string `TRUNCATED`, so a value stored before these
 *   bounds existed is still served instead of failing the read.
 */

/** Free-form values nest at most this deep (an object or array is one level). */
export const MAX_JSON_DEPTH = 32;

/** A whole request body nests at most this deep (the schemas' bounds sit below it). */
export const MAX_BODY_DEPTH = 64;

/** What `clampDepth` puts where a value went deeper than allowed. */
export const TRUNCATED = '[truncated: nested too deep]';

const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] => typeof v === 'object' && v !== null;

/**
 * The path to the first container that lies deeper than `maxDepth` levels, or null when the
 * value fits. `value` itself is level 1 when it is an object or array.
 */
export function jsonTooDeep(value: unknown, maxDepth: number): Array<string | number> | null {
  if (!isContainer(value)) return null;
  const stack: Array<{ v: Record<string, unknown> | unknown[]; depth: number; path: Array<string | number> }> = [{ v: value, depth: 1, path: [] }];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (depth > maxDepth) return path;
    const entries: Array<[string | number, unknown]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, child] of entries) {
      if (isContainer(child)) stack.push({ v: child, depth: depth + 1, path: [...path, k] });
    }
  }
  return null;
}

/** A copy of `value` at most `maxDepth` levels deep: deeper containers become `TRUNCATED`. */
export function clampDepth<T>(value: T, maxDepth: number = MAX_JSON_DEPTH): T {
  if (!isContainer(value) || jsonTooDeep(value, maxDepth) === null) return value;
  const root: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
  const stack: Array<{ from: Record<string, unknown> | unknown[]; to: Record<string, unknown> | unknown[]; depth: number }> = [{ from: value, to: root, depth: 1 }];
  while (stack.length) {
    const { from, to, depth } = stack.pop()!;
    const entries: Array<[string | number, unknown]> = Array.isArray(from) ? from.map((x, i) => [i, x]) : Object.entries(from);
    for (const [k, child] of entries) {
      let out: unknown = child;
      if (isContainer(child)) {
        if (depth + 1 > maxDepth) out = TRUNCATED;
        else {
          out = Array.isArray(child) ? [] : {};
          stack.push({ from: child, to: out as Record<string, unknown> | unknown[], depth: depth + 1 });
        }
      }
      // defineProperty, not assignment: a "__proto__" key stays a plain key.
      Object.defineProperty(to, k, { value: out, enumerable: true, writable: true, configurable: true });
    }
  }
  return root as T;
}
