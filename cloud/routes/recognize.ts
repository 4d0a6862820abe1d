/**
 * `POST /recognize`: plates in one uploaded still image, from the edge's own recognition
 * pipeline (edge/recognize: plate boxes, every engine's read, consensus). The pipeline is
 * loaded on the first request (models take seconds) and reused; requests run one at a
 * time, since each one keeps the CPU busy.
 * Limits (docs/cloud-limits.md): an image past `ANPR_MAX_IMAGE_PIXELS` (read from its header)
 * is refused with 413 before it is decoded; at most `ANPR_RECOGNIZE_QUEUE` images are taken
 * at once (one runs, the rest wait in line) and any further one gets 429 with Retry-After.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';
import { z, Box } from '../../shared/schemas/common.js';
import type { CloudContext } from '../context.js';
import { requireAuth, requireRole } from '../auth/middleware.js';
import { rateLimit } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';
import { imageType } from '../images/image-store.js';
import { cloudLimits } from '../limits/settings.js';
import { assertPixelsWithin } from '../limits/image-pixels.js';
import { Slots } from '../limits/slots.js';
import { retryAfterOnFull } from '../limits/retry-after.js';

/** The largest image `POST /recognize` takes; the app-wide body limit (cloud/app.ts) enforces it while the upload streams. */
export const RECOGNIZE_MAX_IMAGE_BYTES = 10 * 1024 * 1024;

/** The part of the pipeline's interface this route uses (edge/recognize/index.ts). */
interface ImageRecognizer {
  recognizeImage(image: Buffer): Promise<{
    width: number;
    height: number;
    vehicles: Array<{ box: Box; type: string; confidence: number; color?: string }>;
    plates: Array<{
      box: Box;
      detectionScore: number;
      plateText: string;
      confidence: number;
      format?: string;
      rawCandidates: Array<{ text: string; confidence: number; model: string }>;
      votes: unknown;
    }>;
    timings: Record<string, unknown>;
  }>;
  readonly engines?: string[];
  dispose(): Promise<void>;
}

const Candidate = z.object({ text: z.string(), confidence: z.number(), model: z.string() });
export const RecognizeResult = z
  .object({
    width: z.number().int(),
    height: z.number().int(),
    engines: z.array(z.string()),
    plates: z.array(
      z.object({
        box: Box,
        detection_score: z.number(),
        plate_text: z.string(),
        confidence: z.number(),
        format: z.string().nullable(),
        raw_candidates: z.array(Candidate),
        votes: z.unknown(),
      }),
    ),
    vehicles: z.array(z.object({ box: Box, type: z.string(), confidence: z.number(), color: z.string().nullable() })),
    timings_ms: z.record(z.string(), z.unknown()),
  })
  .openapi('RecognizeResult');

async function readImage(c: Context<Env>, maxPixels: number): Promise<Buffer> {
  const ct = (c.req.header('content-type') ?? '').toLowerCase();
  let buf: Buffer;
  if (ct.startsWith('multipart/form-data')) {
    let form: Record<string, string | File>;
    try {
      form = (await c.req.parseBody()) as Record<string, string | File>;
    } catch {
      throw new AppError('INVALID_REQUEST', 'Malformed multipart body');
    }
    const f = form.image;
    if (!f || typeof f === 'string') throw new AppError('VALIDATION_ERROR', 'Validation error', { errors: [{ field: 'image', message: 'image: a JPEG or PNG file is required' }] });
    buf = Buffer.from(await f.arrayBuffer());
  } else if (ct.startsWith('image/jpeg') || ct.startsWith('image/png') || ct.startsWith('application/octet-stream')) {
    buf = Buffer.from(await c.req.arrayBuffer());
  } else {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the image as multipart/form-data (field image) or as image/jpeg or image/png');
  }
  if (!imageType(buf)) throw new AppError('VALIDATION_ERROR', 'Validation error', { errors: [{ field: 'image', message: 'image: must be a JPEG or PNG image' }] });
  await assertPixelsWithin(buf, maxPixels);
  return buf;
}

export function registerRecognizeRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, clientIp: (c: Context) => string): void {
  let recognizer: Promise<ImageRecognizer> | null = null;
  const limits = cloudLimits();
  const line = new Slots({ what: 'images to recognize', total: 1, queue: limits.recognizeQueue - 1, retryAfterS: 5 });

  ctx.onClose.push(async () => {
    const r = recognizer;
    recognizer = null;
    if (r) await r.then((x) => x.dispose()).catch(() => undefined);
  });

  const load = () => {
    recognizer ??= (async () => {
      // Resolved at run time: the cloud starts (and serves everything else) without the pipeline.
      const spec = '../../edge/recognize/index.js';
      let mod: { createRecognizer?: (o: Record<string, unknown>) => Promise<ImageRecognizer> };
      try {
        mod = await import(spec);
      } catch (e) {
        ctx.log.error({ err: e }, 'recognition pipeline unavailable');
        throw new AppError('SERVICE_UNAVAILABLE', 'The recognition pipeline is not installed');
      }
      if (typeof mod.createRecognizer !== 'function') throw new AppError('SERVICE_UNAVAILABLE', 'The recognition pipeline is not installed');
      const t0 = Date.now();
      const r = await mod.createRecognizer({ mirror: ctx.modelsMirror, modelsDir: ctx.modelsDir, logger: ctx.log });
      ctx.log.info({ ms: Date.now() - t0, engines: r.engines }, 'recognition pipeline loaded');
      return r;
    })().catch((e) => {
      recognizer = null;
      if (e instanceof AppError) throw e;
      ctx.log.error({ err: e }, 'recognition pipeline failed to load');
      throw new AppError('SERVICE_UNAVAILABLE', `The recognition pipeline failed to load: ${(e as Error).message}`);
    });
    return recognizer;
  };

  app.post(
    '/recognize',
    retryAfterOnFull(),
    requireAuth(ctx),
    requireRole('viewer'),
    rateLimit(ctx.limiter, 'config', clientIp),
    async (c) => {
      const image = await readImage(c, limits.maxImagePixels);
      const rec = await load();
      const release = await line.acquire();
      let r;
      try {
        r = await rec.recognizeImage(image);
      } catch (e) {
        const msg = (e as Error).message ?? String(e);
        if (/decode|unsupported image|corrupt|input buffer/i.test(msg)) {
          throw new AppError('VALIDATION_ERROR', 'Validation error', { errors: [{ field: 'image', message: `image: cannot be decoded (${msg.slice(0, 200)})` }] });
        }
        throw e;
      } finally {
        release();
      }
      return c.json({
        width: r.width,
        height: r.height,
        engines: rec.engines ?? [],
        plates: r.plates.map((p) => ({
          box: p.box,
          detection_score: p.detectionScore,
          plate_text: p.plateText,
          confidence: p.confidence,
          format: p.format ?? null,
          raw_candidates: p.rawCandidates.map((k) => ({ text: k.text, confidence: k.confidence, model: k.model })),
          votes: p.votes ?? null,
        })),
        vehicles: r.vehicles.map((v) => ({ box: v.box, type: v.type, confidence: v.confidence, color: v.color ?? null })),
        timings_ms: r.timings,
      });
    },
  );
  doc(app, 'post', '/recognize', {
    tag: 'Recognition',
    summary: 'Plates in an uploaded still image (multipart field image, or an image/jpeg|png body): boxes, per-engine reads, consensus',
    multipart: z.object({ image: z.any().openapi({ type: 'string', format: 'binary' }) }),
    response: RecognizeResult,
    errors: [400, 401, 413, 415, 429, 503],
  });
}
