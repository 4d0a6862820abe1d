/**
 * createRecognizer: the recognition pipeline as the daemon and the cloud use it.
 *
 *   frame ─▶ vehicles (FastestDet, if installed) ─▶ plate regions (PP-OCRv4 det)
 *         ─▶ readers (fast-plate-ocr, PP-OCRv4 rec, tesseract) ─▶ consensus
 *         ─▶ per-camera tracker (cross-frame vote) ─▶ de-dup window ─▶ ConfirmedRead
 *
 * Works with the npm-shipped models alone (PP-OCRv4 det+rec, tesseract); fast-plate-ocr and
 * FastestDet join when the models dir or the mirror holds them. Models run in a worker
 * thread, so `push` never blocks the caller's event loop for inference.
 */
import { dirname } from 'node:path';
import { AppError } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { regionsById, type Region } from '../../shared/plate/index.js';
import { FastestDetVehicleDetector } from '../detect/vehicle-detector.js';
import { TextPlateLocator, type TextPlateLocatorOptions } from '../detect/text-plate-locator.js';
import { OnnxPlateDetector } from '../detect/onnx-plate-detector.js';
import type { PlateLocator, VehicleDetector } from '../detect/types.js';
import { InferenceHost, type Provider } from '../inference/index.js';
import { decodeImage } from '../inference/image.js';
import { ModelStore, readVerifiedModel } from '../inference/model-store.js';
import { FastPlateOcrReader } from '../read/fast-plate-ocr.js';
import { PaddleOcrReader } from '../read/paddle-ocr.js';
import { TesseractReader } from '../read/tesseract.js';
import { ENGINE_FAST_PLATE, ENGINE_NAMES, ENGINE_PADDLE, ENGINE_TESSERACT, type PlateReader } from '../read/types.js';
import type { TrustTable } from '../read/consensus.js';
import { DedupWindow } from '../track/dedup.js';
import { DEFAULT_TRACKER_OPTIONS, PlateTracker, type TrackerOptions } from '../track/tracker.js';
import { PlatePipeline, readPlateBox, type FrameAnalysis, type PlateReading } from './pipeline.js';
import type { Box, CameraRecognitionSettings, CameraRecognizer, ConfirmedRead, Frame, ImageResult, Recognizer } from '../contracts.js';

export { ENGINE_NAMES, ENGINE_FAST_PLATE, ENGINE_PADDLE, ENGINE_TESSERACT };
export type * from '../contracts.js';
export type { FrameAnalysis, PlateReading } from './pipeline.js';

export interface RecognizerOptions {
  /** Local model mirror (e.g. ../shared/models), used when the models dir lacks a model. */
  mirror?: string;
  /** Where `anpr models fetch` installs models (default models/cache/). */
  modelsDir?: string;
  /** Execution providers in order of preference; unavailable ones fall back to CPU. */
  providers?: Provider[];
  /** Engines to run (default: every engine whose model is installed). Naming a missing one is an error. */
  engines?: string[];
  /** Plate-format regions, e.g. ['us'], ['br'] (default: none, formats play no part). */
  regions?: string[];
  /** Regions defined in configuration (id, formats such as 'LL-DDD-LL'), usable in `regions`. */
  customRegions?: Region[];
  logger?: Logger;
  /** The same plate on the same camera within this window is one event (default 60 s). */
  dedupWindowMs?: number;
  /** Frames a track needs before it is confirmed (default 1). */
  minFrames?: number;
  /** Use the FastestDet vehicle detector when installed (default true). */
  vehicles?: boolean;
  /** Plate search: the frame/ROI (default) or inside vehicle boxes. */
  plateSearch?: 'frame' | 'vehicles';
  /**
   * A dedicated plate-detector ONNX model (open-image-models layout) instead of the text detector:
   * a file inside the models dir, loaded only when its sha256 matches (see readVerifiedModel).
   */
  plateDetectorModel?: { file: string; sha256: string };
  /** Text-detector settings (scales, thresholds, plate geometry). */
  textDetector?: TextPlateLocatorOptions;
  /** Regions read by every engine per frame (default 2). */
  maxPlates?: number;
  /** Engine trust weights for the consensus. */
  trust?: TrustTable;
  tracker?: Partial<Omit<TrackerOptions, 'minFrames' | 'trust'>>;
  /**
   * Run every stage once before returning (a long-running daemon: the first car after a start
   * is then decided as fast as any). One-shot callers leave it off: their first image pays it.
   */
  warmUp?: boolean;
}

export type FullRecognizer = Recognizer & {
  /** Plates in one encoded JPEG/PNG: boxes, per-engine reads, consensus and votes. */
  recognizeImage(image: Buffer, opts?: { regions?: string[]; roi?: Box }): Promise<ImageResult>;
  /** Like recognizeImage on an already decoded RGB image; keeps the per-engine reads. */
  analyze(image: { width: number; height: number; data: Buffer }, opts?: { regions?: string[]; roi?: Box }): Promise<FrameAnalysis>;
  /** Every engine's read of a known plate box (whole image when omitted) and their consensus. */
  readPlate(image: { width: number; height: number; data: Buffer }, box?: Box, opts?: { regions?: string[] }): Promise<PlateReading>;
  /** Engines actually running, in order of trust. */
  readonly engines: string[];
  readonly vehicleDetector: string | undefined;
};

export async function createRecognizer(opts: RecognizerOptions = {}): Promise<FullRecognizer> {
  const log = (opts.logger ?? silentLogger).child({ component: 'recognizer' });
  const store = await ModelStore.open({ modelsDir: opts.modelsDir, mirror: opts.mirror });
  const host = new InferenceHost({ logger: opts.logger, providers: opts.providers });
  const wanted = opts.engines ?? [...ENGINE_NAMES];
  for (const e of wanted) {
    if (!(ENGINE_NAMES as readonly string[]).includes(e)) throw new AppError('CONFIG_INVALID', `unknown engine '${e}' (known: ${ENGINE_NAMES.join(', ')})`);
  }
  if (wanted.length === 0) throw new AppError('CONFIG_INVALID', 'at least one engine is needed');
  const explicit = opts.engines !== undefined;
  const customRegions = opts.customRegions ?? [];
  const defaultRegions = regionsById(opts.regions ?? [], customRegions);

  const readers: PlateReader[] = [];
  if (wanted.includes(ENGINE_FAST_PLATE)) {
    const p = explicit ? await store.require('fast-plate-ocr') : await store.path('fast-plate-ocr');
    if (p) readers.push(new FastPlateOcrReader(host, p));
    else log.info("fast-plate-ocr model not installed ('anpr models fetch' or --mirror); running without it");
  }
  if (wanted.includes(ENGINE_PADDLE)) {
    readers.push(new PaddleOcrReader(host, await store.require('ppocr-rec'), { keysPath: await store.require('ppocr-keys') }));
  }
  if (wanted.includes(ENGINE_TESSERACT)) readers.push(new TesseractReader({ langPath: dirname(await store.require('tesseract-eng')) }));

  let vehicles: VehicleDetector | undefined;
  if (opts.vehicles !== false) {
    const p = await store.path('fastestdet');
    if (p) vehicles = new FastestDetVehicleDetector(host, p);
    else log.info('FastestDet not installed; plate search covers the region of interest');
  }
  const locator: PlateLocator = opts.plateDetectorModel
    ? new OnnxPlateDetector(host, await readVerifiedModel(store.modelsDir, opts.plateDetectorModel.file, opts.plateDetectorModel.sha256))
    : new TextPlateLocator(host, await store.require('ppocr-det'), opts.textDetector);

  try {
    await Promise.all([locator.load(), vehicles?.load(), ...readers.map((r) => r.load())]);
    if (opts.warmUp) await warmUp(locator, vehicles, readers);
  } catch (e) {
    await Promise.allSettled(readers.map((r) => r.dispose()));
    await host.close();
    throw e;
  }
  log.info({ engines: readers.map((r) => r.name), vehicles: vehicles?.name ?? null, locator: locator.name }, 'recognizer ready');

  const pipeline = new PlatePipeline(
    { vehicles, locator, readers },
    { regions: defaultRegions, trust: opts.trust, maxPlates: opts.maxPlates, plateSearch: opts.plateSearch, logger: log },
  );
  const cameras = new Map<string, CameraPipeline>();
  const regionsFor = (ids?: string[]): Region[] | undefined => (ids ? regionsById(ids, customRegions) : undefined);

  return {
    engines: readers.map((r) => r.name),
    vehicleDetector: vehicles?.name,
    async recognizeImage(image, o = {}) {
      const t = performance.now();
      const decoded = await decodeImage(image).catch((e) => {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', `cannot decode image: ${(e as Error).message}`, { cause: e });
      });
      const decodeMs = performance.now() - t;
      const { observations: _drop, ...result } = await pipeline.analyze(decoded, { roi: o.roi, regions: regionsFor(o.regions) });
      result.timings.decode = Math.round(decodeMs * 10) / 10;
      result.timings.total = Math.round((result.timings.total + decodeMs) * 10) / 10;
      return result;
    },
    analyze(image, o = {}) {
      return pipeline.analyze(image, { roi: o.roi, regions: regionsFor(o.regions) });
    },
    readPlate(image, box, o = {}) {
      const b = box ?? { x: 0, y: 0, width: image.width, height: image.height };
      return readPlateBox(pipeline.stages, image, b, regionsFor(o.regions) ?? defaultRegions, opts.trust);
    },
    forCamera(cameraId, o = {}) {
      let cam = cameras.get(cameraId);
      if (!cam) {
        cam = new CameraPipeline(cameraId, pipeline, defaultRegions, opts, log);
        cameras.set(cameraId, cam);
      }
      cam.configure(o, regionsFor(o.regions));
      return cam;
    },
    async dispose() {
      await Promise.allSettled([locator.dispose(), vehicles?.dispose(), ...readers.map((r) => r.dispose())]);
      await host.close();
    },
  };
}

/**
 * Runs every stage once on a blank picture: ONNX Runtime and tesseract do their one-time
 * allocations on the first call (about 2 s on a 2-core box), which would otherwise fall on the
 * first car after a start and delay its decision.
 */
async function warmUp(locator: PlateLocator, vehicles: VehicleDetector | undefined, readers: PlateReader[]): Promise<void> {
  // Grey, with dark bars where the readers look: a blank crop makes tesseract print statistics.
  const image = { width: 640, height: 360, data: Buffer.alloc(640 * 360 * 3, 200) };
  const box = { x: 200, y: 150, width: 200, height: 48 };
  for (let y = box.y + 10; y < box.y + 38; y++) for (let x = box.x + 12; x < box.x + 188; x++) if ((x - box.x) % 24 < 8) image.data.fill(20, (y * 640 + x) * 3, (y * 640 + x) * 3 + 3);
  await Promise.all([locator.locate(image, []), vehicles?.detect(image), ...readers.map((r) => r.read(image, [box]))]);
}

/**
 * One camera: tracker + de-dup window. Frames arriving while one is being processed are not
 * queued: only the latest waits, older ones resolve to no reads at once.
 */
class CameraPipeline implements CameraRecognizer {
  private readonly tracker: PlateTracker;
  private readonly dedup: DedupWindow;
  private roi?: Box;
  private minPlateHeight?: number;
  private regions: Region[];
  private readonly defaults: { minConfidence: number; confirmFrames: number };
  private busy = false;
  private waiting?: { frame: Frame; resolve: (r: ConfirmedRead[]) => void; reject: (e: unknown) => void };
  dropped = 0;

  constructor(
    readonly cameraId: string,
    private readonly pipeline: PlatePipeline,
    private readonly defaultRegions: Region[],
    opts: RecognizerOptions,
    private readonly log: Logger,
  ) {
    this.regions = defaultRegions;
    this.tracker = new PlateTracker(defaultRegions, { ...opts.tracker, minFrames: opts.minFrames ?? 1, trust: opts.trust });
    this.defaults = {
      minConfidence: opts.tracker?.minConfidence ?? DEFAULT_TRACKER_OPTIONS.minConfidence,
      confirmFrames: opts.tracker?.confirmFrames ?? DEFAULT_TRACKER_OPTIONS.confirmFrames,
    };
    this.dedup = new DedupWindow(opts.dedupWindowMs ?? 60_000);
  }

  /** Applies the camera's settings; an absent one returns to the recognizer's default. */
  configure(s: CameraRecognitionSettings, regions: Region[] | undefined) {
    this.roi = s.roi;
    this.minPlateHeight = s.minPlateHeight;
    // Plates at the ROI's edge (as at the frame's) may be cut: the tracker weighs them less.
    this.tracker.setRoi(s.roi);
    this.tracker.setDecision({ minConfidence: s.minConfidence ?? this.defaults.minConfidence, confirmFrames: s.confirmFrames ?? this.defaults.confirmFrames });
    this.regions = regions ?? this.defaultRegions;
    this.tracker.setRegions(this.regions);
  }

  push(frame: Frame): Promise<ConfirmedRead[]> {
    if (this.busy) {
      if (this.waiting) {
        this.dropped++;
        this.waiting.resolve([]);
      }
      return new Promise((resolve, reject) => (this.waiting = { frame, resolve, reject }));
    }
    return this.process(frame);
  }

  private async process(frame: Frame): Promise<ConfirmedRead[]> {
    this.busy = true;
    try {
      const t = performance.now();
      const analysis = await this.pipeline.analyze({ width: frame.width, height: frame.height, data: frame.data }, { roi: this.roi, regions: this.regions, minPlateHeight: this.minPlateHeight });
      const ms = performance.now() - t;
      const share = ms / Math.max(1, analysis.observations.length);
      const results = this.tracker.update(
        frame.ts,
        analysis.observations.map((o) => ({ box: o.result.box, reads: o.reads, consensus: o.consensus, vehicle: o.result.vehicle, frame, processingMs: share })),
      );
      return this.confirm(results);
    } finally {
      this.busy = false;
      const next = this.waiting;
      this.waiting = undefined;
      if (next) this.process(next.frame).then(next.resolve, next.reject);
    }
  }

  flush(): ConfirmedRead[] {
    return this.confirm(this.tracker.flush());
  }

  get openTracks(): number {
    return this.tracker.openTracks;
  }

  private confirm(results: ReturnType<PlateTracker['flush']>): ConfirmedRead[] {
    const out: ConfirmedRead[] = [];
    for (const r of results) {
      if (this.dedup.check(r.text, r.lastSeenTs)) {
        this.log.debug({ camera: this.cameraId, plate: r.text }, 'duplicate within window');
        continue;
      }
      out.push({
        cameraId: this.cameraId,
        plateText: r.text,
        confidence: r.confidence,
        rawCandidates: r.candidates,
        votes: r.consensus.votes,
        plateBox: r.best.box,
        ...(r.best.vehicle ? { vehicle: r.best.vehicle } : {}),
        frame: r.best.frame,
        firstSeenTs: r.firstSeenTs,
        lastSeenTs: r.lastSeenTs,
        frameCount: r.frameCount,
        processingMs: Math.round(r.processingMs),
        path: r.path,
      });
    }
    return out;
  }
}
