/**
 * HyperLogLog sketch (p = 12: 4096 one-byte registers, standard error ≈ 1.6%, and exact in
 * practice for small counts through linear counting). The stats endpoint merges one sketch
 * per hour, camera and zone instead of scanning millions of events for distinct plates.
 */
import { createHash } from 'node:crypto';

export const HLL_P = 12;
export const HLL_M = 1 << HLL_P;

export function newSketch(): Uint8Array {
  return new Uint8Array(HLL_M);
}

/** Where a value lands in a sketch: its register and the rank it would set there. */
export interface SketchPosition {
  idx: number;
  rho: number;
}

export function sketchPosition(value: string): SketchPosition {
  const d = createHash('sha1').update(value).digest();
  return { idx: d.readUInt32BE(0) >>> (32 - HLL_P), rho: Math.clz32(d.readUInt32BE(4)) + 1 };
}

/** Sets a position in a sketch; says whether the sketch changed. */
export function addPosition(regs: Uint8Array, p: SketchPosition): boolean {
  if (p.rho > regs[p.idx]!) {
    regs[p.idx] = p.rho;
    return true;
  }
  return false;
}

/**
 * `stored` (or an empty sketch) with `positions` set, as a new array; null when they change
 * nothing (every register already at least that high: registers only ever grow).
 */
export function withPositions(stored: Uint8Array | undefined, positions: readonly SketchPosition[]): Uint8Array | null {
  const regs = stored ? new Uint8Array(stored) : newSketch();
  let dirty = !stored;
  for (const p of positions) if (addPosition(regs, p)) dirty = true;
  return dirty ? regs : null;
}

export function addToSketch(regs: Uint8Array, value: string): boolean {
  return addPosition(regs, sketchPosition(value));
}

export function mergeSketch(into: Uint8Array, other: Uint8Array): void {
  for (let i = 0; i < HLL_M; i++) if (other[i]! > into[i]!) into[i] = other[i]!;
}

export function estimate(regs: Uint8Array): number {
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < HLL_M; i++) {
    sum += 2 ** -regs[i]!;
    if (regs[i] === 0) zeros++;
  }
  const alpha = 0.7213 / (1 + 1.079 / HLL_M);
  const raw = (alpha * HLL_M * HLL_M) / sum;
  if (raw <= 2.5 * HLL_M && zeros > 0) return Math.round(HLL_M * Math.log(HLL_M / zeros));
  return Math.round(raw);
}
