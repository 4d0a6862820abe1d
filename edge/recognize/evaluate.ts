/**
 * Accuracy evaluation on labelled data, in the OpenALPR benchmark's two layouts:
 * - end to end: `<dir>/<region>/NAME.jpg` + `NAME.txt` (`NAME.jpg\tx\ty\tw\th\tPLATE`);
 * - crops: `<dir>/groundtruth.csv` (`file,state,PLATE`) next to the cropped plates.
 * Exact = whole plate string after normalisation (upper case, spaces and dashes removed).
 * A plate counts as detected when a reported box overlaps the labelled one with IoU > 0.4.
 * A false read is a reported plate (any of an image's plates, not only the top one; the consensus
 * of a crop) whose text matches no label of that image.
 * The dataset path is always an argument: evaluation data never enters the repository.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { normalizePlate, REGIONS } from '../../shared/plate/index.js';
import { iou } from '../detect/geometry.js';
import { decodeImage } from '../inference/image.js';
import { align } from '../read/align.js';
import type { FullRecognizer } from './index.js';
import type { Box } from '../contracts.js';

export interface LabelledImage {
  file: string;
  /** Region id from the folder name when it is a known region. */
  region?: string;
  plate: string;
  box?: Box;
}

export interface Percentiles {
  p50: number;
  p95: number;
}

export interface Failure {
  file: string;
  expected: string;
  got: string;
  detected?: boolean;
  per_engine: Record<string, string>;
  /** Reported plates that match no label of this image. */
  false_reads?: string[];
}

export interface EvalReport {
  layout: 'endtoend' | 'crops';
  images: number;
  /** Share of labelled plates overlapped (IoU > 0.4) by a reported plate; null for crops. */
  detection_recall: number | null;
  exact: number;
  per_engine: Record<string, number>;
  /** Best single engine and its exact share. */
  best_engine: { engine: string; exact: number } | null;
  char_accuracy: number;
  /** Reported plates whose text matches no label of their image, in all. */
  false_reads: number;
  /** false_reads / images. */
  false_reads_per_image: number;
  /** The images with false reads and what was read (end to end only). */
  false_read_images?: { file: string; expected: string; false_reads: string[] }[];
  /** Per region folder (end to end only). */
  per_region?: Record<string, { images: number; exact: number; detection_recall: number; false_reads: number }>;
  latency_ms: Record<string, Percentiles | Record<string, Percentiles>>;
  failures: Failure[];
}

export interface DatasetReport extends Partial<EvalReport> {
  dataset: string;
  /** Every layout found under the dataset folder, by folder name. */
  datasets: Record<string, EvalReport>;
}

/** Finds the layouts under `dir`: itself, `endtoend/`, and any folder with a groundtruth.csv. */
export async function findLayouts(dir: string): Promise<{ name: string; layout: 'endtoend' | 'crops'; path: string }[]> {
  if (existsSync(join(dir, 'groundtruth.csv'))) return [{ name: basename(dir), layout: 'crops', path: dir }];
  const out: { name: string; layout: 'endtoend' | 'crops'; path: string }[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name));
  if (entries.some((e) => e.name === 'endtoend')) out.push({ name: 'endtoend', layout: 'endtoend', path: join(dir, 'endtoend') });
  for (const e of entries) if (existsSync(join(dir, e.name, 'groundtruth.csv'))) out.push({ name: e.name, layout: 'crops', path: join(dir, e.name) });
  if (out.length === 0 && (await hasLabelledImages(dir))) out.push({ name: basename(dir), layout: 'endtoend', path: dir });
  return out;
}

async function hasLabelledImages(dir: string): Promise<boolean> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory() && (await readdir(join(dir, e.name))).some((f) => f.endsWith('.txt'))) return true;
  }
  return false;
}

/** Reads `<dir>/<region>/*.txt` labels. */
export async function readEndToEnd(dir: string): Promise<LabelledImage[]> {
  const out: LabelledImage[] = [];
  for (const sub of (await readdir(dir)).sort()) {
    const subdir = join(dir, sub);
    if (!(await stat(subdir)).isDirectory()) continue;
    for (const f of (await readdir(subdir)).filter((x) => x.endsWith('.txt')).sort()) {
      const line = (await readFile(join(subdir, f), 'utf8')).split(/\r?\n/).find((l) => l.trim());
      if (!line) continue;
      const [name, x, y, w, h, ...rest] = line.split('\t');
      const plate = normalizePlate(rest.join(''));
      if (!name || !plate) continue;
      out.push({
        file: imageFor(subdir, name.trim(), f),
        region: REGIONS[sub.toLowerCase()] ? sub.toLowerCase() : undefined,
        plate,
        box: { x: Number(x), y: Number(y), width: Number(w), height: Number(h) },
      });
    }
  }
  return out;
}

/**
 * The labelled image: the name the label gives, else the label file's stem with an image
 * extension (some labels name a .png that was stored as .jpg).
 */
function imageFor(dir: string, named: string, labelFile: string): string {
  if (existsSync(join(dir, named))) return join(dir, named);
  const stem = labelFile.replace(/\.txt$/, '');
  for (const ext of ['.jpg', '.jpeg', '.png', '.JPG', '.PNG']) if (existsSync(join(dir, stem + ext))) return join(dir, stem + ext);
  return join(dir, named);
}

/** Reads `<dir>/groundtruth.csv` (`file,state,PLATE`, header optional). */
export async function readCrops(dir: string, region?: string): Promise<LabelledImage[]> {
  const rows = (await readFile(join(dir, 'groundtruth.csv'), 'utf8')).split(/\r?\n/).filter((l) => l.trim());
  const out: LabelledImage[] = [];
  for (const row of rows) {
    const cols = row.split(',');
    const file = cols[0]?.trim();
    const plate = normalizePlate(cols[cols.length - 1] ?? '');
    if (!file || !plate || /^file(name)?$/i.test(file)) continue;
    out.push({ file: join(dir, file), plate, region });
  }
  return out;
}

export function percentiles(xs: number[]): Percentiles {
  if (xs.length === 0) return { p50: 0, p95: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return { p50: Math.round(at(0.5) * 10) / 10, p95: Math.round(at(0.95) * 10) / 10 };
}

/** 1 − edit distance / label length, floored at 0. */
export function charAccuracy(got: string, expected: string): number {
  let d = 0;
  for (const [i, j] of align(expected, got)) d += i < 0 || j < 0 || expected[i] !== got[j] ? 1 : 0;
  return Math.max(0, 1 - d / Math.max(1, expected.length));
}

class Tally {
  n = 0;
  exact = 0;
  detected = 0;
  falseReads = 0;
  chars = 0;
  readonly engines = new Map<string, number>();
  readonly lat = new Map<string, number[]>();
  time(key: string, ms: number | undefined) {
    if (ms === undefined) return;
    const a = this.lat.get(key) ?? [];
    a.push(ms);
    this.lat.set(key, a);
  }
  latency(): Record<string, Percentiles | Record<string, Percentiles>> {
    const out: Record<string, Percentiles | Record<string, Percentiles>> = {};
    const read: Record<string, Percentiles> = {};
    for (const [k, v] of this.lat) {
      if (k.startsWith('read:')) read[k.slice(5)] = percentiles(v);
      else out[k] = percentiles(v);
    }
    if (Object.keys(read).length) out.read = read;
    return out;
  }
}

const share = (k: number, n: number) => (n === 0 ? 0 : Math.round((k / n) * 10000) / 10000);

function finish(layout: EvalReport['layout'], t: Tally, engines: string[], failures: Failure[], perRegion?: EvalReport['per_region']): EvalReport {
  const per_engine = Object.fromEntries(engines.map((e) => [e, share(t.engines.get(e) ?? 0, t.n)]));
  const bestEntry = Object.entries(per_engine).sort((a, b) => b[1] - a[1])[0];
  return {
    layout,
    images: t.n,
    detection_recall: layout === 'endtoend' ? share(t.detected, t.n) : null,
    exact: share(t.exact, t.n),
    per_engine,
    best_engine: bestEntry ? { engine: bestEntry[0], exact: bestEntry[1] } : null,
    char_accuracy: share(t.chars, t.n),
    false_reads: t.falseReads,
    false_reads_per_image: t.n === 0 ? 0 : Math.round((t.falseReads / t.n) * 1000) / 1000,
    ...(perRegion ? { per_region: perRegion } : {}),
    latency_ms: t.latency(),
    failures,
  };
}

export interface EvalOptions {
  /** Called after each image (progress). */
  onImage?: (done: number, total: number) => void;
  /** Evaluate at most this many images per layout (quick runs). */
  limit?: number;
  /** Plate formats for every image instead of each image's region folder (end to end only). */
  regions?: string[];
}

/** Runs the recogniser end to end over labelled photos. */
export async function evaluateEndToEnd(rec: FullRecognizer, items: LabelledImage[], o: EvalOptions = {}): Promise<EvalReport> {
  const t = new Tally();
  const regions = new Map<string, Tally>();
  const failures: Failure[] = [];
  const falseReadImages: NonNullable<EvalReport['false_read_images']> = [];
  const list = o.limit ? items.slice(0, o.limit) : items;
  for (const [k, item] of list.entries()) {
    const t0 = performance.now();
    const image = await decodeImage(await readFile(item.file));
    const decodeMs = performance.now() - t0;
    const res = await rec.analyze(image, { regions: o.regions ?? (item.region ? [item.region] : []) });
    const top = res.plates[0];
    const got = top?.plateText ?? '';
    const detected = item.box ? res.plates.some((p) => iou(p.box, item.box!) > 0.4) : false;
    const ok = got === item.plate;
    const falseReads = res.plates.map((p) => p.plateText).filter((x) => x && x !== item.plate);
    const rt = regions.get(item.region ?? 'other') ?? new Tally();
    regions.set(item.region ?? 'other', rt);
    for (const x of [t, rt]) {
      x.n++;
      x.exact += ok ? 1 : 0;
      x.detected += detected ? 1 : 0;
      x.falseReads += falseReads.length;
    }
    t.chars += charAccuracy(got, item.plate);
    const perEngine: Record<string, string> = {};
    for (const c of top?.rawCandidates ?? []) {
      perEngine[c.model] = c.text;
      if (c.text === item.plate) t.engines.set(c.model, (t.engines.get(c.model) ?? 0) + 1);
    }
    t.time('decode', decodeMs);
    t.time('vehicles', res.timings.vehicles);
    t.time('plates', res.timings.plates);
    for (const [e, ms] of Object.entries(res.timings.read)) t.time(`read:${e}`, ms);
    t.time('consensus', res.timings.consensus);
    t.time('total', res.timings.total + decodeMs);
    if (!ok) failures.push({ file: relativeName(item.file), expected: item.plate, got, detected, per_engine: perEngine, false_reads: falseReads });
    if (falseReads.length) falseReadImages.push({ file: relativeName(item.file), expected: item.plate, false_reads: falseReads });
    o.onImage?.(k + 1, list.length);
  }
  const perRegion = Object.fromEntries(
    [...regions].map(([r, x]) => [r, { images: x.n, exact: share(x.exact, x.n), detection_recall: share(x.detected, x.n), false_reads: x.falseReads }]),
  );
  return { ...finish('endtoend', t, rec.engines, failures, perRegion), false_read_images: falseReadImages };
}

/** Reads labelled plate crops (the whole image is the plate). */
export async function evaluateCrops(rec: FullRecognizer, items: LabelledImage[], o: EvalOptions = {}): Promise<EvalReport> {
  const t = new Tally();
  const failures: Failure[] = [];
  const list = o.limit ? items.slice(0, o.limit) : items;
  for (const [k, item] of list.entries()) {
    const t0 = performance.now();
    const image = await decodeImage(await readFile(item.file));
    const decodeMs = performance.now() - t0;
    const t1 = performance.now();
    const r = await rec.readPlate(image, undefined, { regions: item.region ? [item.region] : [] });
    const got = r.consensus.text;
    const ok = got === item.plate;
    t.n++;
    t.exact += ok ? 1 : 0;
    t.falseReads += got && !ok ? 1 : 0;
    t.chars += charAccuracy(got, item.plate);
    const perEngine: Record<string, string> = {};
    for (const read of r.reads) {
      perEngine[read.engine] = read.text;
      if (read.text === item.plate) t.engines.set(read.engine, (t.engines.get(read.engine) ?? 0) + 1);
    }
    t.time('decode', decodeMs);
    for (const [e, ms] of Object.entries(r.timings)) t.time(`read:${e}`, ms);
    t.time('total', performance.now() - t1 + decodeMs);
    if (!ok) failures.push({ file: relativeName(item.file), expected: item.plate, got, per_engine: perEngine });
    o.onImage?.(k + 1, list.length);
  }
  return finish('crops', t, rec.engines, failures);
}

/** Evaluates every layout found under `dir`. Crop folders named `ocr-crops-<region>` use that region's formats. */
export async function evaluateDataset(rec: FullRecognizer, dir: string, o: EvalOptions & { onLayout?: (name: string, n: number) => void } = {}): Promise<DatasetReport> {
  const layouts = await findLayouts(dir);
  const datasets: Record<string, EvalReport> = {};
  for (const l of layouts) {
    if (l.layout === 'endtoend') {
      const items = await readEndToEnd(l.path);
      o.onLayout?.(l.name, items.length);
      datasets[l.name] = await evaluateEndToEnd(rec, items, o);
    } else {
      const region = /-([a-z]{2})$/.exec(l.name)?.[1];
      const items = await readCrops(l.path, region && REGIONS[region] ? region : undefined);
      o.onLayout?.(l.name, items.length);
      datasets[l.name] = await evaluateCrops(rec, items, o);
    }
  }
  const main = datasets.endtoend ?? Object.values(datasets)[0];
  return { dataset: dir, ...(main ?? {}), datasets };
}

function relativeName(file: string): string {
  return file.split('/').slice(-2).join('/');
}
