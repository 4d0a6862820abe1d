/**
 * `GET /config/cameras/{id}/snapshot`: one JPEG frame from the camera, grabbed by ffmpeg
 * (RTSP over TCP, one frame, killed at the timeout). The frame is scaled to the camera's
 * analysis resolution, so pixel positions on it (zone polygons) are the positions the
 * edge sees. Credentials in the camera URL never reach a log line or an error message.
 * ffmpeg runs in one of the cloud's ffmpeg slots (429 with Retry-After when they are taken);
 * a camera that does not answer with a frame reads `PROBE_FAILED` to the caller, at the
 * timeout, and the reason goes to the server log (cloud/limits/probe-policy.ts).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';
import { redactUrl } from '../../shared/log.js';
import { z } from '../../shared/schemas/common.js';
import type { CloudContext } from '../context.js';
import { requireAuth, requireRole } from '../auth/middleware.js';
import { notFound, validateQuery } from '../http/errors.js';
import { rateLimit } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';
import { probeReason } from '../probes/camera-probe.js';
import { runCameraTool } from '../limits/ffmpeg-slots.js';
import { answerAtTimeout, checkProbeDestination, PROBE_FAILED, TOOL_GRACE_MS } from '../limits/probe-policy.js';
import { retryAfterOnFull } from '../limits/retry-after.js';

const MAX_JPEG_BYTES = 32 * 1024 * 1024;

export type SnapshotResult = { ok: true; jpeg: Buffer; ms: number } | { ok: false; error: string; reason: string; ms: number };

/**
 * Grabs one frame as JPEG. Rejects only with 403 FORBIDDEN (destination policy) or 429
 * SlotsFull (too many ffmpeg processes); a failure carries `reason`, for the server log only.
 */
export async function grabSnapshot(
  url: string,
  timeoutS: number,
  size?: { width: number; height: number },
  ffmpeg = process.env.ANPR_FFMPEG ?? 'ffmpeg',
): Promise<SnapshotResult> {
  const t0 = Date.now();
  await checkProbeDestination(url);
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  if (/^rtsps?:/i.test(url)) args.push('-rtsp_transport', 'tcp', '-timeout', String(Math.round(timeoutS * 1e6)));
  args.push('-i', url, '-an', '-frames:v', '1');
  if (size) args.push('-vf', `scale=${size.width}:${size.height}`);
  args.push('-f', 'image2', '-c:v', 'mjpeg', '-q:v', '3', 'pipe:1');
  const r = await runCameraTool(ffmpeg, args, timeoutS, MAX_JPEG_BYTES);
  if (r.spawnError) return { ok: false, error: `cannot run ffmpeg: ${r.spawnError}`, reason: r.spawnError, ms: r.ms };
  const jpeg = r.stdout;
  if (r.code === 0 && jpeg.length > 3 && jpeg[0] === 0xff && jpeg[1] === 0xd8) return { ok: true, jpeg, ms: r.ms };
  if (r.overflow) return { ok: false, error: 'Frame too large', reason: 'Frame too large', ms: r.ms };
  const reason = redactUrl(probeReason(r.stderr, r.timedOut));
  return { ok: false, error: PROBE_FAILED, reason, ms: await answerAtTimeout(t0, timeoutS * 1000 + TOOL_GRACE_MS) };
}

const SnapshotQuery = z.object({ timeout: z.coerce.number().int().min(1).max(60).default(10).openapi({ description: 'Seconds (1-60, default 10)' }) }).strict();

export function registerSnapshotRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, clientIp: (c: Context) => string): void {
  app.get('/config/cameras/:id/snapshot', retryAfterOnFull(), requireAuth(ctx), requireRole('viewer'), rateLimit(ctx.limiter, 'config', clientIp), async (c) => {
    const q = validateQuery(SnapshotQuery, c);
    const id = c.req.param('id');
    const cam = await ctx.config.get('cameras', id);
    if (!cam) throw notFound('Camera');
    const res = cam.resolution as { width: number; height: number } | undefined;
    const r = await grabSnapshot(cam.rtsp_url as string, q.timeout, res);
    if (!r.ok) {
      ctx.log.warn({ camera: id, error: r.reason, ms: r.ms }, 'snapshot failed');
      throw new AppError('SERVICE_UNAVAILABLE', `Snapshot failed: ${r.error}`, { extra: { response_time_ms: r.ms } });
    }
    return c.body(new Uint8Array(r.jpeg), 200, {
      'content-type': 'image/jpeg',
      'content-length': String(r.jpeg.length),
      'cache-control': 'no-store',
      'x-response-time-ms': String(r.ms),
    });
  });
  doc(app, 'get', '/config/cameras/:id/snapshot', {
    tag: 'Config',
    summary: "One JPEG frame from the camera, at its analysis resolution (ffmpeg, with timeout)",
    params: z.object({ id: z.string() }),
    query: SnapshotQuery,
    errors: [400, 401, 403, 404, 429, 503],
  });
}
