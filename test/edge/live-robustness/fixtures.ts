/**
 * Generated video for the live-path robustness tests, and the loop that runs it.
 *
 * Scenes are drawn with sharp from SVG (a road, text-free shapes, car bodies, plates in DejaVu
 * Sans Mono; never dataset photos), piped to the real ffmpeg as raw RGB and encoded as an IP
 * camera sends them (H.264, no B-frames). `runLive` then drives the real capture
 * (`CameraCapture`: ffmpeg → RGB frames, latest frame only) into the real recognizer the way
 * the daemon's camera loop does: take the latest frame, push it, collect confirmed reads.
 */
import { startH264Writer } from '../../../edge/demo/h264-writer.js';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import sharp from 'sharp';
import type { CameraCapture } from '../../../edge/capture/camera-capture.js';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import { recognizerOptions } from '../../../edge/daemon/models.js';
import { createRecognizer, type CameraRecognizer, type ConfirmedRead, type Frame, type FullRecognizer } from '../../../edge/recognize/index.js';

/**
 * The recognizer as `anpr edge` builds it from its config file (`recognition` defaults: a 60 s
 * de-dup window, 2 frames per read), with the shipped models and no mirror.
 */
export function edgeRecognizer(o: { regions?: string[]; dedupWindowS?: number; minFrames?: number } = {}): Promise<FullRecognizer> {
  const recognition = { ...(o.dedupWindowS !== undefined ? { dedup_window_s: o.dedupWindowS } : {}), ...(o.minFrames !== undefined ? { min_frames: o.minFrames } : {}) };
  const cfg = parseEdgeConfig({ edge_id: 'robustness', regions: o.regions ?? ['us'], recognition });
  return createRecognizer(recognizerOptions(cfg, []));
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A road seen by a gate camera: sky, asphalt, kerb, lane dashes, a barrier post. No text. */
export function roadSvg(w: number, h: number): string {
  return `<rect width="${w}" height="${h * 0.45}" fill="#9dbfe0"/>
  <rect y="${h * 0.45}" width="${w}" height="${h * 0.55}" fill="#5b5f63"/>
  <rect y="${h * 0.45}" width="${w}" height="${h * 0.03}" fill="#9aa0a6"/>
  ${Array.from({ length: 8 }, (_, i) => `<rect x="${(i * w) / 8 + w * 0.02}" y="${h * 0.9}" width="${w / 16}" height="${h * 0.015}" fill="#e8e8e8"/>`).join('')}
  <rect x="${w * 0.86}" y="${h * 0.3}" width="${w * 0.04}" height="${h * 0.3}" fill="#333"/>
  <rect x="${w * 0.87}" y="${h * 0.22}" width="${w * 0.02}" height="${h * 0.1}" fill="#d33"/>
  <circle cx="${w * 0.12}" cy="${h * 0.2}" r="${h * 0.08}" fill="#2e6b2e"/>
  <rect x="${w * 0.115}" y="${h * 0.26}" width="${w * 0.01}" height="${h * 0.2}" fill="#5a3d1e"/>
  <polygon points="${w * 0.55},${h * 0.46} ${w * 0.6},${h * 0.3} ${w * 0.65},${h * 0.46}" fill="#7d7f86"/>`;
}

export interface Car {
  /** Top-left corner and size of the car body, pixels. */
  x: number;
  y: number;
  w: number;
  h: number;
  colour: string;
  /** Plate text; omitted: a car without a plate. */
  plate?: string;
  /** Plate width as a fraction of the car's width (default 0.42). */
  plateScale?: number;
}

/** A car seen from the front, its plate centred low on the body (the demo camera's drawing). */
export function carSvg(c: Car): string {
  const { x, y, w, h } = c;
  const pw = w * (c.plateScale ?? 0.42);
  const ph = pw / 4.2;
  const px = x + (w - pw) / 2;
  const py = y + h * 0.62;
  const plate = c.plate === undefined ? '' : `<rect x="${px}" y="${py}" width="${pw}" height="${ph}" rx="${ph * 0.15}" fill="#f7f7f2" stroke="#111" stroke-width="${Math.max(1, ph * 0.07)}"/>
  <text x="${px + pw / 2}" y="${py + ph * 0.8}" text-anchor="middle" font-family="DejaVu Sans Mono" font-weight="bold" font-size="${Math.round(ph * 0.82)}" fill="#111" textLength="${pw * 0.9}" lengthAdjust="spacingAndGlyphs">${esc(c.plate)}</text>`;
  return `<rect x="${x + w * 0.12}" y="${y + h * 0.05}" width="${w * 0.76}" height="${h * 0.42}" rx="${w * 0.08}" fill="${c.colour}"/>
  <rect x="${x + w * 0.2}" y="${y + h * 0.1}" width="${w * 0.6}" height="${h * 0.28}" rx="${w * 0.03}" fill="#2b3a4a"/>
  <rect x="${x + w * 0.02}" y="${y + h * 0.38}" width="${w * 0.96}" height="${h * 0.5}" rx="${w * 0.05}" fill="${c.colour}"/>
  <circle cx="${x + w * 0.14}" cy="${y + h * 0.5}" r="${h * 0.06}" fill="#f5f0c8"/>
  <circle cx="${x + w * 0.86}" cy="${y + h * 0.5}" r="${h * 0.06}" fill="#f5f0c8"/>
  <rect x="${x + w * 0.04}" y="${y + h * 0.86}" width="${w * 0.16}" height="${h * 0.14}" rx="${h * 0.03}" fill="#111"/>
  <rect x="${x + w * 0.8}" y="${y + h * 0.86}" width="${w * 0.16}" height="${h * 0.14}" rx="${h * 0.03}" fill="#111"/>${plate}`;
}

/** One frame of a road with these cars, packed RGB24. */
export async function renderFrame(w: number, h: number, cars: Car[] = []): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${roadSvg(w, h)}${cars.map(carSvg).join('')}</svg>`;
  return sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer();
}

export { prng } from '../../fixtures/prng.js';

/** A copy of `frame` with sensor-like noise (±amplitude per channel): no two frames alike. */
export function withNoise(frame: Buffer, random: () => number, amplitude = 12): Buffer {
  const out = Buffer.allocUnsafe(frame.length);
  for (let i = 0; i < frame.length; i++) {
    const v = frame[i] + Math.round((random() * 2 - 1) * amplitude);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/**
 * Encodes `count` raw RGB24 frames (from `frameAt(i)`) into an H.264 MP4 as an IP camera
 * sends it: no B-frames, a key frame every second. Returns the file's path.
 */
export async function encodeClip(
  dir: string,
  name: string,
  o: { width: number; height: number; fps: number; count: number },
  frameAt: (i: number) => Buffer | Promise<Buffer>,
): Promise<string> {
  const file = join(dir, name);
  const video = startH264Writer(file, { width: o.width, height: o.height, fps: o.fps, gop: o.fps, preset: 'ultrafast', noBFrames: true });
  for (let i = 0; i < o.count; i++) await video.write(await frameAt(i));
  await video.end();
  return file;
}

// `global.gc` without --expose-gc on the command line (tap starts the process).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Memory after a full collection: the JS heap and the Buffers (frames live there), and RSS. */
export function memoryNow(): { heap: number; buffers: number; rss: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, rss: m.rss };
}

export const MiB = 1024 * 1024;

/** Open tracks of a camera's tracker: the recognizer's per-camera state that must stay bounded. */
export function openTracks(cam: CameraRecognizer): number {
  return cam.openTracks;
}

export interface LiveResult {
  reads: ConfirmedRead[];
  /** Frames pushed through the recognizer. */
  processed: number;
  /** seq of the last processed frame. */
  lastSeq: number;
}

/**
 * The daemon's camera loop, in the test: the capture's latest frame into the camera
 * recognizer, until `until` says so (checked after each frame), then the capture stops and
 * the open tracks are flushed (unless `flush` is false). A recognizer error fails the run.
 * `frameTimeoutMs` bounds the wait for a frame (a liveness bound, not a timing assertion).
 */
export async function runLive(o: {
  capture: CameraCapture;
  cam: CameraRecognizer;
  until: (s: { processed: number; frame: Frame; reads: ConfirmedRead[] }) => boolean;
  onFrame?: (frame: Frame, processed: number) => void;
  flush?: boolean;
  frameTimeoutMs?: number;
}): Promise<LiveResult> {
  const reads: ConfirmedRead[] = [];
  let processed = 0;
  let lastSeq = 0;
  o.capture.start();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const frame = await Promise.race([
        o.capture.nextFrame(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no frame within ${o.frameTimeoutMs ?? 60_000} ms: ${JSON.stringify(o.capture.status())}`)), o.frameTimeoutMs ?? 60_000);
        }),
      ]).finally(() => clearTimeout(timer));
      if (!frame) throw new Error('the capture stopped by itself');
      reads.push(...(await o.cam.push(frame)));
      processed++;
      lastSeq = frame.seq;
      o.onFrame?.(frame, processed);
      if (o.until({ processed, frame, reads })) break;
    }
  } finally {
    await o.capture.stop();
  }
  if (o.flush !== false) reads.push(...o.cam.flush());
  return { reads, processed, lastSeq };
}

/** Ten distinct plates, US style (LLL DDD), without look-alike characters (O/0, I/1, B/8, S/5, Z/2, D, G, Q). */
export const TEN_PLATES = ['KXR 482', 'HTM 735', 'PLW 264', 'FJN 937', 'VCK 718', 'MYT 649', 'RWH 273', 'AEP 856', 'XKV 391', 'TLF 724'];

/** Plate text as the recognizer reports it (no spaces). */
export const compact = (s: string) => s.replace(/\s+/g, '');
