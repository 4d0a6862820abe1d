/**
 * The live evaluation's camera: labelled photos shown one after another as an IP camera would
 * send them. Each photo is letterboxed into a uniform 1920×1080 frame first (EXIF orientation
 * applied, as the stills evaluation decodes it) and the frames are piped raw into one ffmpeg:
 * concatenating photos of different sizes in ffmpeg froze the picture after the first size
 * change (measured). H.264 without B-frames, a keyframe every 2 s, in MP4.
 *
 *   black lead-in │ photo 0 │ photo 1 │ … │ photo N-1 │ black trailer
 *
 * The video is cached by a hash of the photos' bytes and the timing, so reruns skip encoding.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors.js';
import { startH264Writer } from '../../demo/h264-writer.js';

export const FRAME_WIDTH = 1920;
export const FRAME_HEIGHT = 1080;

export interface RenderOptions {
  photos: string[];
  /** Seconds each photo is shown (default 3). */
  holdS?: number;
  /** Seconds of black before the first photo (default 2). */
  leadInS?: number;
  /** Seconds of black after the last photo, for its track to close and its event to arrive (default 8). */
  trailerS?: number;
  /** Frame rate of the video (default 10). */
  fps?: number;
  /** Where rendered videos are kept; the newest few stay, older ones are removed. */
  cacheDir: string;
  /** Videos kept in the cache (default 4). */
  keep?: number;
}

/** When each part of the video plays, in ms from its time 0. */
export interface VideoTimeline {
  file: string;
  leadInMs: number;
  holdMs: number;
  durationMs: number;
  /** Stream time of photo i's first frame. */
  photoAtMs(i: number): number;
  cached: boolean;
}

export async function renderEvalVideo(o: RenderOptions): Promise<VideoTimeline> {
  const holdS = o.holdS ?? 3;
  const leadInS = o.leadInS ?? 2;
  const trailerS = o.trailerS ?? 8;
  const fps = o.fps ?? 10;
  if (o.photos.length === 0) throw new AppError('INVALID_REQUEST', 'no photos to render');
  // Whole frames per part, so the timeline is exact.
  const holdFrames = Math.max(1, Math.round(holdS * fps));
  const leadFrames = Math.round(leadInS * fps);
  const trailFrames = Math.round(trailerS * fps);
  const frameMs = 1000 / fps;
  const hash = createHash('sha256').update(JSON.stringify({ v: 1, holdFrames, leadFrames, trailFrames, fps, w: FRAME_WIDTH, h: FRAME_HEIGHT }));
  for (const p of o.photos) hash.update(createHash('sha256').update(await readFile(p)).digest());
  await mkdir(o.cacheDir, { recursive: true });
  const file = join(o.cacheDir, `eval-${hash.digest('hex').slice(0, 16)}.mp4`);
  const timeline = (cached: boolean): VideoTimeline => ({
    file,
    leadInMs: leadFrames * frameMs,
    holdMs: holdFrames * frameMs,
    durationMs: (leadFrames + holdFrames * o.photos.length + trailFrames) * frameMs,
    photoAtMs: (i) => (leadFrames + i * holdFrames) * frameMs,
    cached,
  });
  if (existsSync(file)) {
    const now = new Date();
    await utimes(file, now, now);
    return timeline(true);
  }

  const tmp = `${file}.${process.pid}.tmp.mp4`;
  const video = startH264Writer(tmp, { width: FRAME_WIDTH, height: FRAME_HEIGHT, fps, gop: 2 * fps, noBFrames: true });
  try {
    const black = Buffer.alloc(FRAME_WIDTH * FRAME_HEIGHT * 3);
    await video.write(black, leadFrames);
    for (const p of o.photos) await video.write(await letterbox(p), holdFrames);
    await video.write(black, trailFrames);
    await video.end();
  } catch (e) {
    video.kill();
    await rm(tmp, { force: true });
    throw e;
  }
  await rename(tmp, file);
  await pruneCache(o.cacheDir, o.keep ?? 4);
  return timeline(false);
}

/** The photo scaled to fit 1920×1080, centred on black (ffmpeg's scale=…:decrease,pad=… in sharp). */
export async function letterbox(photo: string): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  try {
    return await sharp(photo)
      .rotate()
      .resize(FRAME_WIDTH, FRAME_HEIGHT, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer();
  } catch (e) {
    throw new AppError('INVALID_REQUEST', `cannot decode ${photo}: ${(e as Error).message}`);
  }
}

async function pruneCache(dir: string, keep: number): Promise<void> {
  const videos = await Promise.all(
    (await readdir(dir)).filter((f) => /^eval-[0-9a-f]+\.mp4$/.test(f)).map(async (f) => ({ f, at: (await stat(join(dir, f))).mtimeMs })),
  );
  for (const v of videos.sort((a, b) => b.at - a.at).slice(keep)) await rm(join(dir, v.f), { force: true });
}
