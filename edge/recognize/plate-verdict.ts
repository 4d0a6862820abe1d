/**
 * The plate / not-a-plate decision for every read region of a frame. A vehicle carries text
 * that is not its plate — state names above it ("TEXAS"), dealer frames ("CARBRAXX",
 * "SUNTRUP"), city names, model badges ("TOYOTA", "JAC"), stickers, timestamps burnt into
 * the picture — and road signs stand beside it. The engines read such text as confidently as
 * a plate, so confidence alone cannot tell them apart. What does (measured on the dev photos,
 * where every correct read was its frame's best-ranked region, with a plate-specialist
 * confidence of 0.8 or more and at least 0.66 of the tallest text's height):
 *
 * - text: a plate has 4–8 characters and at least one digit, unless it fits a plate format of
 *   the camera's regions; a letters-only read (a vanity plate) is a plate only as the frame's
 *   best region, among its tallest text and read confidently by the plate specialist; where every
 *   region is closed (br, lt) only a read that fits a format is a plate;
 * - one plate per vehicle: of the regions whose smallest enclosing vehicle is the same, only
 *   the best-ranked is its plate (the rest are its badges, frame and stickers);
 * - a region after the frame's best plate (another car's plate, or text beside the plate)
 *   must look like a plate on its own: the plate specialist confident (≥ 0.8), text at least
 *   `minRelativeHeight` of the tallest, a vehicle of its own when the frame has vehicles, and
 *   the engines that read it agreeing.
 *
 * Pure: the pipeline hands it the frame's read regions, best first, and keeps what it keeps.
 */
import { isDigit, matchingFormats, type Region } from '../../shared/plate/index.js';
import { plateDistance } from '../read/align.js';
import type { EngineRead } from '../read/types.js';
import type { Box, VehicleDetection } from '../contracts.js';

export interface RegionForVerdict {
  box: Box;
  /** Every engine's read of the region, the plate specialist's first when it ran. */
  reads: EngineRead[];
  /** The consensus text. */
  text: string;
  /** The smallest vehicle holding the region, if any. */
  vehicle?: VehicleDetection;
}

export interface VerdictOptions {
  regions: Region[];
  /** Height of the tallest text region of the frame (plates are a vehicle's largest text). */
  tallest: number;
  /** Whether the frame has vehicles (then a second plate needs a vehicle of its own). */
  vehiclesFound: boolean;
  /** Engine whose confidence says "plate" (reads plates confidently, other text hesitantly). */
  specialist?: string;
  minRelativeHeight?: number;
  minSpecialistConfidence?: number;
}

export type NotAPlateReason = 'length' | 'no-digit' | 'off-format' | 'second-on-vehicle' | 'weak-second';

export interface Verdict {
  plate: boolean;
  reason?: NotAPlateReason;
}

const DEFAULTS = { minRelativeHeight: 0.6, minSpecialistConfidence: 0.8 };

/** One verdict per region (input best first). */
export function judgePlates(regions: readonly RegionForVerdict[], o: VerdictOptions): Verdict[] {
  const minRel = o.minRelativeHeight ?? DEFAULTS.minRelativeHeight;
  const minSpec = o.minSpecialistConfidence ?? DEFAULTS.minSpecialistConfidence;
  const allClosed = o.regions.length > 0 && o.regions.every((r) => !r.openFormats);
  const vehiclesWithPlate = new Set<VehicleDetection>();
  let accepted = 0;
  return regions.map((r): Verdict => {
    // The frame's best region: the best-ranked one not already found to be something else.
    const first = accepted === 0;
    const fits = o.regions.length > 0 && matchingFormats(r.text, o.regions).length > 0;
    const specialist = o.specialist ? r.reads.find((x) => x.engine === o.specialist && x.text) : undefined;
    const specialistSure = specialist === undefined || specialist.confidence >= minSpec;
    const tall = r.box.height >= minRel * o.tallest;
    const verdict = ((): Verdict => {
      if (allClosed && !fits) return { plate: false, reason: 'off-format' };
      if (!fits && (r.text.length < 4 || r.text.length > 8)) return { plate: false, reason: 'length' };
      if (!fits && ![...r.text].some(isDigit) && !(first && tall && specialist !== undefined && specialistSure)) {
        return { plate: false, reason: 'no-digit' };
      }
      if (r.vehicle && vehiclesWithPlate.has(r.vehicle)) return { plate: false, reason: 'second-on-vehicle' };
      if (!first) {
        const read = r.reads.filter((x) => x.text.length > 0);
        const agree = read.length < 2 || plateDistance(read[0].text, read[1].text) <= 1;
        if (!specialistSure || !tall || !agree || (o.vehiclesFound && !r.vehicle)) return { plate: false, reason: 'weak-second' };
      }
      return { plate: true };
    })();
    if (verdict.plate) accepted++;
    if (verdict.plate && r.vehicle) vehiclesWithPlate.add(r.vehicle);
    return verdict;
  });
}
