/** Turns a confirmed read into the contract's event body and its frame/crop JPEGs. */
import type { EventIngest } from '../../shared/schemas/event.js';
import type { ConfirmedRead, Box } from '../contracts.js';
import type { Pass } from '../access/gate.js';
import { makeEventId } from '../outbox/event-id.js';

export function buildEventBody(edgeId: string, zoneFallback: string | null, read: ConfirmedRead, pass: Pass, index = 0): EventIngest {
  const f = read.frame;
  const id = makeEventId(edgeId, read.cameraId, f.ts, f.seq) + (index ? `.${index}` : '');
  const v = read.vehicle;
  return {
    event_id: id.slice(0, 128),
    timestamp: new Date(f.ts).toISOString(),
    camera_id: read.cameraId,
    zone_id: pass.zone?.id ?? zoneFallback,
    plate_text: read.plateText,
    confidence: Math.min(1, Math.max(0, read.confidence)),
    raw_candidates: read.rawCandidates.slice(0, 64).map((c) => ({
      text: c.text.slice(0, 32),
      confidence: Math.min(1, Math.max(0, c.confidence)),
      model: (c.model || 'unknown').slice(0, 64),
    })),
    vehicle_info: v
      ? { type: v.type, ...(v.color ? { color: v.color.slice(0, 32) } : {}), confidence: Math.min(1, Math.max(0, v.confidence)), bbox: roundBox(v.box) }
      : null,
    tpms_status: pass.tpms,
    decision: pass.decision,
    metadata: {
      edge_worker_id: edgeId,
      processing_time_ms: Math.round(read.processingMs),
      frame_number: f.seq,
      frame_count: read.frameCount,
      captured_at_ms: f.ts,
      first_seen_ms: read.firstSeenTs,
      last_seen_ms: read.lastSeenTs,
      plate_box: roundBox(read.plateBox),
    },
  };
}

const roundBox = (b: Box) => ({ x: Math.max(0, Math.round(b.x)), y: Math.max(0, Math.round(b.y)), width: Math.max(0, Math.round(b.width)), height: Math.max(0, Math.round(b.height)) });

/** JPEGs of the whole frame and of the plate (with a margin), encoded off the event loop by sharp. */
export async function encodeImages(read: ConfirmedRead, quality = 85): Promise<{ frame: Buffer; crop: Buffer | undefined }> {
  const { default: sharp } = await import('sharp');
  const f = read.frame;
  const raw = { raw: { width: f.width, height: f.height, channels: 3 as const } };
  const frame = await sharp(f.data, raw).jpeg({ quality }).toBuffer();
  const b = read.plateBox;
  const mx = b.width * 0.15;
  const my = b.height * 0.3;
  const left = Math.max(0, Math.floor(b.x - mx));
  const top = Math.max(0, Math.floor(b.y - my));
  const width = Math.min(f.width - left, Math.ceil(b.width + 2 * mx));
  const height = Math.min(f.height - top, Math.ceil(b.height + 2 * my));
  const crop = width >= 2 && height >= 2 ? await sharp(f.data, raw).extract({ left, top, width, height }).jpeg({ quality: 90 }).toBuffer() : undefined;
  return { frame, crop };
}
