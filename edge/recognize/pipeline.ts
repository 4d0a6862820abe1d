/**
 * The per-image pipeline: vehicles → plate regions → readers → consensus.
 *
 * Cost control: every plate-shaped region is read by the primary engine (fast-plate-ocr,
 * batched, ~2 ms a crop); only the `maxPlates` regions it finds most plate-like are read by
 * the other engines, which run side by side (PP-OCR in the inference worker, tesseract in its
 * own worker). The others (up to `maxRegions`) become plates on the primary engine's read alone
 * when the plate/not-a-plate verdict accepts them, so a picture with many cars reports them all.
 */
import { containment, area, iou } from '../detect/geometry.js';
import type { PlateLocator, PlateRegion, VehicleDetector } from '../detect/types.js';
import { vehicleColor } from '../detect/vehicle-color.js';
import { padBox, type RgbImage } from '../inference/image.js';
import { vote, type Ballot, type ConsensusResult, type TrustTable } from '../read/consensus.js';
import { ENGINE_FAST_PLATE, type EngineRead, type PlateReader } from '../read/types.js';
import { judgePlates } from './plate-verdict.js';
import type { Logger } from '../../shared/log.js';
import type { Region } from '../../shared/plate/index.js';
import { matchingFormats } from '../../shared/plate/index.js';
import type { Box, Candidate, ImageResult, PlateResult, StageTimings, VehicleDetection } from '../contracts.js';

export interface PipelineStages {
  vehicles?: VehicleDetector;
  locator: PlateLocator;
  /** Readers in order of trust; the first ranks the regions. */
  readers: PlateReader[];
}

export interface PipelineOptions {
  regions: Region[];
  trust?: TrustTable;
  /** Regions read by every engine (the rest are only read by the first). */
  maxPlates?: number;
  /**
   * Regions per frame that may become plates (best-ranked first; default 12): a picture with
   * many cars reports them all, the ones beyond `maxPlates` on the primary engine's read.
   */
  maxRegions?: number;
  /** Plates below this consensus confidence are not reported. */
  minConfidence?: number;
  /** 'frame': search the region of interest; 'vehicles': search vehicle boxes, the ROI when none. */
  plateSearch?: 'frame' | 'vehicles';
  /** Regions per frame read by a secondary engine (default: tesseract 1, others maxPlates). */
  engineRegions?: Record<string, number>;
  logger?: Logger;
  /** Name the colour of vehicles that carry a plate. */
  vehicleColour?: boolean;
}

/** A plate with everything the tracker needs to vote across frames. */
export interface PlateObservation {
  /** How plate-like the region is (primary engine confidence, text height, length, format). */
  rank: number;
  result: PlateResult;
  reads: EngineRead[];
  consensus: ConsensusResult;
}

export interface FrameAnalysis extends ImageResult {
  observations: PlateObservation[];
}

/** How plausible a read's length is for a plate. */
export function lengthPrior(n: number): number {
  if (n >= 4 && n <= 8) return 1;
  if (n === 3 || n === 9) return 0.6;
  return n === 0 ? 0 : 0.2;
}

export class PlatePipeline {
  private readonly maxPlates: number;
  private readonly maxRegions: number;
  private readonly minConfidence: number;

  private readonly engineWarned = new Map<string, number>();

  constructor(
    readonly stages: PipelineStages,
    private readonly opts: PipelineOptions,
  ) {
    this.maxPlates = opts.maxPlates ?? 2;
    this.maxRegions = Math.max(this.maxPlates, opts.maxRegions ?? 12);
    this.minConfidence = opts.minConfidence ?? 0.3;
  }

  /** At most one log line per engine per minute: a broken engine must not flood the log. */
  private warnEngine(engine: string, err: unknown) {
    const now = Date.now();
    if (now - (this.engineWarned.get(engine) ?? 0) < 60_000) return;
    this.engineWarned.set(engine, now);
    this.opts.logger?.warn({ err, engine }, 'engine failed; frame read without it');
  }

  /**
   * Runs every stage on one image. `roi` limits the plate search; `regions` overrides the
   * formats; plate boxes lower than `minPlateHeight` pixels are not read.
   */
  async analyze(image: RgbImage, o: { roi?: Box; regions?: Region[]; minPlateHeight?: number } = {}): Promise<FrameAnalysis> {
    const t0 = performance.now();
    const timings: StageTimings = { plates: 0, read: {}, consensus: 0, total: 0 };
    const regions = o.regions ?? this.opts.regions;

    let vehicles: VehicleDetection[] = [];
    if (this.stages.vehicles) {
      const t = performance.now();
      vehicles = await this.stages.vehicles.detect(image);
      if (o.roi) vehicles = vehicles.filter((v) => containment(v.box, o.roi!) > 0.5);
      timings.vehicles = performance.now() - t;
    }

    let t = performance.now();
    const areas = this.opts.plateSearch === 'vehicles' && vehicles.length ? vehicles.map((v) => padBox(v.box, 0.1, 0.1)) : o.roi ? [o.roi] : [];
    const found = (await this.stages.locator.locate(image, areas)).filter((r) => r.box.height >= (o.minPlateHeight ?? 0));
    timings.plates = performance.now() - t;

    const [primary, ...others] = this.stages.readers;
    t = performance.now();
    const primaryReads = await primary.read(image, found.map((r) => r.box));
    timings.read[primary.name] = performance.now() - t;

    const tallest = Math.max(1, ...found.map((r) => r.box.height));
    const ranked = found
      .map((region, i) => ({ region, primary: primaryReads[i], rank: rankScore(region, primaryReads[i], regions, tallest) }))
      .filter((x) => x.rank > 0)
      .sort((a, b) => b.rank - a.rank)
      .slice(0, this.maxRegions);

    // Every ranked region is read by the primary engine; the best `maxPlates` by the others too.
    const boxes = ranked.slice(0, this.maxPlates).map((r) => r.region.box);
    const otherReads = await Promise.all(
      others.map(async (reader) => {
        const ts = performance.now();
        const limit = this.opts.engineRegions?.[reader.name] ?? DEFAULT_ENGINE_REGIONS[reader.name] ?? boxes.length;
        let reads: EngineRead[] = [];
        try {
          reads = boxes.length ? await reader.read(image, boxes.slice(0, limit)) : [];
        } catch (e) {
          // A failing secondary engine costs its vote, not the frame.
          this.warnEngine(reader.name, e);
        }
        timings.read[reader.name] = performance.now() - ts;
        return reads;
      }),
    );

    t = performance.now();
    const observations: PlateObservation[] = [];
    ranked.forEach((r, i) => {
      const reads = [r.primary, ...otherReads.map((rs) => rs[i]).filter((x): x is EngineRead => x !== undefined)];
      const consensus = vote(reads.map((read): Ballot => ({ read })), { trust: this.opts.trust, regions });
      if (consensus.text.length < 3 || consensus.confidence < this.minConfidence) return;
      const vehicle = vehicleFor(r.region.box, vehicles);
      observations.push({
        rank: r.rank,
        reads,
        consensus,
        result: {
          box: r.region.box,
          detectionScore: round(r.region.score),
          ...(vehicle ? { vehicle } : {}),
          plateText: consensus.text,
          confidence: consensus.confidence,
          ...(consensus.format ? { format: consensus.format } : {}),
          rawCandidates: reads.map(toCandidate),
          votes: consensus.votes,
        },
      });
    });
    // Observations are in rank order already (best first). Text that is not a plate goes.
    const candidates = dedupeOverlaps(observations);
    const verdicts = judgePlates(
      candidates.map((c) => ({ box: c.result.box, reads: c.reads, text: c.consensus.text, vehicle: c.result.vehicle })),
      { regions, tallest, vehiclesFound: vehicles.length > 0, specialist: primary.name === ENGINE_FAST_PLATE ? primary.name : undefined },
    );
    const plates = candidates.filter((_, i) => verdicts[i].plate);
    if (plates.length < candidates.length && this.opts.logger?.isLevelEnabled('debug')) {
      this.opts.logger.debug({ notPlates: candidates.flatMap((c, i) => (verdicts[i].plate ? [] : [{ text: c.consensus.text, reason: verdicts[i].reason }])) }, 'text that is not a plate');
    }
    timings.consensus = performance.now() - t;

    if (this.opts.vehicleColour !== false) {
      for (const v of new Set(plates.map((p) => p.result.vehicle).filter((v): v is VehicleDetection => !!v))) {
        const c = await vehicleColor(image, v.box);
        v.color = c.color;
      }
    }
    timings.total = performance.now() - t0;
    return { width: image.width, height: image.height, vehicles, plates: plates.map((p) => p.result), observations: plates, timings: roundTimings(timings) };
  }
}

export interface PlateReading {
  reads: EngineRead[];
  consensus: ConsensusResult;
  /** Per engine, ms. */
  timings: Record<string, number>;
}

/**
 * Every engine's read of one known plate box and their consensus (plate crops, a box a
 * client already found).
 */
export async function readPlateBox(stages: PipelineStages, image: RgbImage, box: Box, regions: Region[], trust?: TrustTable): Promise<PlateReading> {
  const timings: Record<string, number> = {};
  const reads = await Promise.all(
    stages.readers.map(async (r) => {
      const t = performance.now();
      const [read] = await r.read(image, [box]);
      timings[r.name] = ms(performance.now() - t);
      return read;
    }),
  );
  return { reads, consensus: vote(reads.map((read) => ({ read })), { trust, regions }), timings };
}

/**
 * How plate-like a region is: the plate specialist's confidence (it reads plates
 * confidently and other text hesitantly), a plausible length, a format fit, and the text
 * height relative to the tallest text found — a plate's characters are the largest on a
 * vehicle's rear or front, while dealer frames, stickers and timestamp overlays are smaller.
 */
function rankScore(region: PlateRegion, read: EngineRead, regions: Region[], tallest: number): number {
  if (!read || read.text.length === 0) return 0;
  const fits = matchingFormats(read.text, regions).length > 0 ? 1.15 : 1;
  return read.confidence * lengthPrior(read.text.length) * fits * Math.sqrt(region.box.height / tallest) * (0.5 + 0.5 * region.score);
}

/** Regions per frame each secondary engine reads by default (tesseract is slow and weak: the best one only). */
export const DEFAULT_ENGINE_REGIONS: Readonly<Record<string, number>> = { tesseract: 1 };


/** Two overlapping boxes are one plate: keep the better-scored (input is sorted best first). */
function dedupeOverlaps(obs: PlateObservation[]): PlateObservation[] {
  const kept: PlateObservation[] = [];
  for (const o of obs) if (kept.every((k) => iou(k.result.box, o.result.box) < 0.3 && containment(o.result.box, k.result.box) < 0.7)) kept.push(o);
  return kept;
}

function toCandidate(r: EngineRead): Candidate {
  return { text: r.text, confidence: round(r.confidence), model: r.engine, charConfidences: r.chars.map((c) => round(c.confidence)) };
}

/** The smallest vehicle whose box holds most of the plate. */
function vehicleFor(plate: Box, vehicles: VehicleDetection[]): VehicleDetection | undefined {
  return vehicles.filter((v) => containment(plate, v.box) > 0.8).sort((a, b) => area(a.box) - area(b.box))[0];
}


const round = (x: number) => Math.round(x * 1000) / 1000;
/** Milliseconds to 0.1 ms. */
const ms = (x: number) => Math.round(x * 10) / 10;

function roundTimings(t: StageTimings): StageTimings {
  return {
    ...(t.vehicles !== undefined ? { vehicles: ms(t.vehicles) } : {}),
    plates: ms(t.plates),
    read: Object.fromEntries(Object.entries(t.read).map(([k, v]) => [k, ms(v)])),
    consensus: ms(t.consensus),
    total: ms(t.total),
  };
}

