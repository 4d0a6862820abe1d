/**
 * `anpr eval --live`: the labelled photos played as a camera to the real edge → cloud path, and
 * scored at the cloud, next to the stills figure of the same photos.
 *
 *   photos ─▶ video (1920×1080, H.264, cached) ─▶ GStreamer RTSP ─▶ `anpr edge` (own process;
 *     camera from the cloud's config API) ─▶ `anpr cloud` (own process) ─▶ WebSocket ─▶ scored here
 *
 * Photo i is first on screen at the time the RTSP server started playing the stream to the edge
 * (its `PLAYING` line) + the lead-in + i × hold. An event counts for a photo when its plate
 * arrives between that moment and the next photo's + slack (score.ts). The stills figure runs
 * first, in process, with the same regions, so the two never compete for the CPU.
 *
 * Every process started here is stopped on success, error and abort (Ctrl-C); the work dir
 * (cloud and edge data, edge log) is removed unless `keep` names one. Rendered videos stay in a
 * small cache (`cacheDir`, the newest 4).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { AppError } from '../../../shared/errors.js';
import { REGIONS } from '../../../shared/plate/index.js';
import { startCloudProcess } from '../../demo/cloud-process.js';
import { startRtspServer } from '../../demo/rtsp-server.js';
import { evaluateEndToEnd, findLayouts, readEndToEnd, type EvalReport, type LabelledImage, type Percentiles } from '../evaluate.js';
import { createCamera, signIn } from './cloud-admin.js';
import { LIVE_EVAL_EDGE_ID, startEdgeProcess } from './edge-process.js';
import { collectEvents } from './event-collector.js';
import { FRAME_HEIGHT, FRAME_WIDTH, renderEvalVideo } from './render-video.js';
import { scoreLive, type LiveScore, type PhotoSlot } from './score.js';

export interface LiveEvalOptions {
  dataset: string;
  /** The first N label files (sorted) of each region folder; 0 = all (default 8). */
  perRegion?: number;
  /** Seconds each photo is on screen (default 3). */
  holdS?: number;
  /** Frames per second the edge analyses (the camera's fps in the cloud config; default 5). */
  fps?: number;
  /** Plate formats for the edge and the stills (default: the region folders found). */
  regions?: string[];
  mirror?: string;
  /** Keep the work dir (cloud and edge data, edge log) here instead of removing it. */
  keep?: string;
  /** How long after the next photo appears an event still counts (default 5 s). */
  slackS?: number;
  leadInS?: number;
  /** Black after the last photo (default the larger of 8 s and slack + 3 s). */
  trailerS?: number;
  /** Where rendered videos are cached (default <tmpdir>/anpr-live-eval-cache). */
  cacheDir?: string;
  /** How long the edge may take to load its models and start playing the camera (default 180 s). */
  startTimeoutMs?: number;
  signal?: AbortSignal;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
}

/** One side of the comparison. */
export interface SideSummary {
  images: number;
  exact_n: number;
  exact: number;
  /** Stills: reported plates matching no label of their photo. Live: events matching no label in their window. */
  false_reads: number;
  /** Live only: the same photo's plate reported again. */
  duplicates: number | null;
  /** Stills: processing time per photo. Live: first frame of the photo → event at the cloud's subscriber. */
  latency_ms: Percentiles | null;
  per_region: Record<string, { images: number; exact_n: number; exact: number; false_reads: number }>;
}

export interface LiveEvalReport {
  dataset: string;
  regions: string[];
  images: number;
  hold_s: number;
  camera_fps: number;
  slack_s: number;
  video: { file: string; duration_s: number; cached: boolean };
  summary: { stills: SideSummary; live: SideSummary };
  stills: EvalReport;
  live: LiveScore & {
    /** Wall-clock time at which the stream's time 0 was played to the edge. */
    stream_started_at: string;
    events: number;
    /** Events that only GET /events returned (the stream missed them). */
    events_via_rest: number;
    /** Later starts of the stream (the edge reconnected; times after a restart are off). */
    stream_restarts: number;
  };
  work_dir: string | null;
}

/** The labelled photos: the first `perRegion` label files of each region folder (0 = all). */
export async function selectPhotos(dataset: string, perRegion = 8): Promise<LabelledImage[]> {
  const layout = (await findLayouts(dataset)).find((l) => l.layout === 'endtoend');
  if (!layout) throw new AppError('INVALID_REQUEST', `no endtoend/<region>/ photos with .txt labels under ${dataset}`);
  const byFolder = new Map<string, LabelledImage[]>();
  for (const item of await readEndToEnd(layout.path)) {
    const folder = basename(dirname(item.file));
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), item]);
  }
  const out = [...byFolder.values()].flatMap((items) => (perRegion > 0 ? items.slice(0, perRegion) : items));
  if (out.length === 0) throw new AppError('INVALID_REQUEST', `no labelled photos under ${layout.path}`);
  return out;
}

const shortName = (file: string) => file.split('/').slice(-2).join('/');

function aborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new AppError('SERVICE_UNAVAILABLE', 'interrupted'));
    if (signal?.aborted) fail();
    signal?.addEventListener('abort', fail, { once: true });
  });
}

/** Timers that the run's cleanup clears, so none keeps the process alive after it. */
class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();
  delay(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(() => {
        this.pending.delete(t);
        r();
      }, Math.max(0, ms));
      this.pending.add(t);
    });
  }
  clear(): void {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }
}

export async function runLiveEval(o: LiveEvalOptions): Promise<LiveEvalReport> {
  const progress = o.progress ?? (() => {});
  const holdS = o.holdS ?? 3;
  const fps = o.fps ?? 5;
  const slackS = o.slackS ?? 5;
  const photos = await selectPhotos(o.dataset, o.perRegion ?? 8);
  const regions = o.regions?.length ? o.regions : [...new Set(photos.map((p) => p.region).filter((r): r is string => !!r))];
  for (const r of regions) if (!REGIONS[r]) throw new AppError('INVALID_REQUEST', `unknown region '${r}' (known: ${Object.keys(REGIONS).join(', ')})`);
  const stop = aborted(o.signal);
  stop.catch(() => {});
  const step = <T>(p: Promise<T>) => Promise.race([p, stop]);

  const timers = new Timers();
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => timers.clear()];
  /** Starts something that must be stopped: its stop is registered before it has even started. */
  const started = <T>(p: Promise<T>, stopIt: (x: T) => Promise<unknown> | unknown): Promise<T> => {
    cleanups.push(async () => {
      const x = await p.catch(() => null);
      if (x !== null) await stopIt(x);
    });
    return step(p);
  };
  const workDir = o.keep ? resolve(o.keep) : await mkdtemp(join(tmpdir(), 'anpr-live-eval-'));
  if (o.keep) await mkdir(workDir, { recursive: true });
  else cleanups.push(() => rm(workDir, { recursive: true, force: true }));
  try {
    progress(`eval --live: ${photos.length} photos (${regions.join(', ')}), ${holdS} s each; rendering the video…`);
    const video = await step(
      renderEvalVideo({
        photos: photos.map((p) => p.file),
        holdS,
        leadInS: o.leadInS ?? 2,
        trailerS: o.trailerS ?? Math.max(8, slackS + 3),
        cacheDir: o.cacheDir ?? join(tmpdir(), 'anpr-live-eval-cache'),
      }),
    );
    progress(`eval --live: video ${video.file}${video.cached ? ' (cached)' : ''}, ${(video.durationMs / 1000).toFixed(1)} s`);

    progress('eval --live: stills (in process, same photos and regions)…');
    const { createRecognizer } = await import('../index.js');
    const rec = await started(createRecognizer({ mirror: o.mirror, regions }), (x) => x.dispose());
    const stills = await step(evaluateEndToEnd(rec, photos, { regions }));
    // Disposed now, not at the end: the edge's recognizer gets the CPU and memory to itself.
    cleanups.pop();
    await rec.dispose();

    progress('eval --live: starting the RTSP camera, the cloud and the edge…');
    const rtsp = await started(startRtspServer({ file: video.file, path: '/live-eval' }), (x) => x.close());
    const starts: number[] = [];
    rtsp.onPlaying((at) => starts.push(at));
    const cloud = await started(startCloudProcess({ dataDir: join(workDir, 'cloud') }), (x) => x.close());
    const [user, password] = cloud.admin ? cloud.admin.split(' / ') : [process.env.ANPR_ADMIN_USER || 'admin', process.env.ANPR_ADMIN_PASSWORD ?? ''];
    const token = await step(signIn(cloud.url, user, password));
    const apiKey = await step(cloud.createApiKey(LIVE_EVAL_EDGE_ID));
    const cameraId = await step(
      createCamera(cloud.url, token, { id: 'live-eval', name: 'Live evaluation', rtspUrl: rtsp.url, fps, width: FRAME_WIDTH, height: FRAME_HEIGHT }),
    );
    const collector = await started(collectEvents({ cloudUrl: cloud.url, token, cameraId }), (x) => x.close());
    const edge = await started(startEdgeProcess({ workDir, cloudUrl: cloud.url, apiKey, regions, mirror: o.mirror }), (x) => x.stop());
    const edgeDied = edge.exited.then((how) => {
      throw new AppError('SERVICE_UNAVAILABLE', `the edge exited (${how}): ${edge.tail()}`);
    });
    edgeDied.catch(() => {});
    const startTimeout = o.startTimeoutMs ?? 180_000;
    const origin = await Promise.race([
      rtsp.playingAt(),
      edgeDied,
      stop,
      timers.delay(startTimeout).then(() => {
        throw new AppError('SERVICE_UNAVAILABLE', `the edge did not start playing the camera within ${startTimeout / 1000} s: ${edge.tail()}`);
      }),
    ]);
    progress(`eval --live: the edge is playing the camera; collecting events for ${((video.photoAtMs(photos.length) + slackS * 1000) / 1000).toFixed(0)} s…`);

    const slots: PhotoSlot[] = photos.map((p, i) => ({
      file: shortName(p.file),
      region: p.region,
      plate: p.plate,
      shownAtMs: origin + video.photoAtMs(i),
      nextAtMs: origin + video.photoAtMs(i + 1),
    }));
    const end = origin + video.photoAtMs(photos.length) + slackS * 1000;
    await Promise.race([timers.delay(end - Date.now()), edgeDied, stop]);
    await step(collector.complete());
    const arrivals = collector.arrivals.filter((a) => a.arrivedAtMs <= end);
    const live = scoreLive(slots, arrivals, { slackMs: slackS * 1000, originMs: origin });

    const stillsTotal = stills.latency_ms.total as Percentiles | undefined;
    return {
      dataset: o.dataset,
      regions,
      images: photos.length,
      hold_s: holdS,
      camera_fps: fps,
      slack_s: slackS,
      video: { file: video.file, duration_s: video.durationMs / 1000, cached: video.cached },
      summary: {
        stills: {
          images: stills.images,
          exact_n: stills.images - stills.failures.length,
          exact: stills.exact,
          false_reads: stills.false_reads,
          duplicates: null,
          latency_ms: stillsTotal ?? null,
          per_region: Object.fromEntries(
            Object.entries(stills.per_region ?? {}).map(([r, x]) => [r, { images: x.images, exact_n: Math.round(x.exact * x.images), exact: x.exact, false_reads: x.false_reads }]),
          ),
        },
        live: {
          images: live.images,
          exact_n: live.exact_n,
          exact: live.exact,
          false_reads: live.extras,
          duplicates: live.duplicates,
          latency_ms: live.latency_ms,
          per_region: Object.fromEntries(Object.entries(live.per_region).map(([r, x]) => [r, { images: x.images, exact_n: x.exact_n, exact: x.exact, false_reads: x.extras }])),
        },
      },
      stills,
      live: {
        ...live,
        stream_started_at: new Date(origin).toISOString(),
        events: arrivals.length,
        events_via_rest: arrivals.filter((a) => a.via === 'rest').length,
        stream_restarts: starts.filter((t) => t > origin && t <= end).length,
      },
      work_dir: o.keep ? workDir : null,
    };
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        /* best effort: the next step still runs */
      }
    }
  }
}
