/** Box arithmetic shared by detection, tracking and evaluation. */
import type { Box } from '../contracts.js';

export function area(b: Box): number {
  return Math.max(0, b.width) * Math.max(0, b.height);
}

export function intersection(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

export function iou(a: Box, b: Box): number {
  const i = intersection(a, b);
  return i === 0 ? 0 : i / (area(a) + area(b) - i);
}

/** Fraction of `inner` lying inside `outer`. */
export function containment(inner: Box, outer: Box): number {
  const a = area(inner);
  return a === 0 ? 0 : intersection(inner, outer) / a;
}

export function union(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

/** Greedy non-maximum suppression: keeps the best-scoring of each group overlapping more than `threshold`. */
export function nms<T extends { box: Box; score: number }>(items: readonly T[], threshold: number): T[] {
  const sorted = [...items].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const it of sorted) if (kept.every((k) => iou(k.box, it.box) <= threshold)) kept.push(it);
  return kept;
}

export const roundBox = (b: Box): Box => ({ x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) });
