/**
 * Probes a camera stream with ffprobe: codec, size and frame rate of its first video
 * stream. A failure reads `PROBE_FAILED` to the caller and answers at the timeout; the reason
 * (in plain words, credentials masked) goes to the server log (cloud/limits/probe-policy.ts).
 * ffprobe runs in one of the cloud's ffmpeg slots (cloud/limits/ffmpeg-slots.ts).
 */
import { redactUrl, silentLogger, type Logger } from '../../shared/log.js';
import { runCameraTool } from '../limits/ffmpeg-slots.js';
import { answerAtTimeout, checkProbeDestination, PROBE_FAILED, TOOL_GRACE_MS } from '../limits/probe-policy.js';

export interface StreamInfo {
  codec: string;
  width: number;
  height: number;
  fps: number | null;
}

export type ProbeResult = { ok: true; info: StreamInfo; ms: number } | { ok: false; error: string; ms: number };

const CODEC_NAMES: Record<string, string> = { h264: 'H.264', hevc: 'H.265', mjpeg: 'MJPEG', mpeg4: 'MPEG-4', av1: 'AV1', vp8: 'VP8', vp9: 'VP9' };

function rate(r: string | undefined): number | null {
  if (!r) return null;
  const [a, b] = r.split('/').map(Number);
  if (!a || !b) return null;
  return Math.round((a / b) * 100) / 100;
}

/** Turns ffprobe's stderr into one short reason. */
export function probeReason(stderr: string, timedOut: boolean): string {
  if (timedOut) return 'Connection timeout';
  const s = stderr.toLowerCase();
  if (s.includes('connection refused')) return 'Connection refused';
  if (s.includes('401') || s.includes('unauthorized')) return 'Authentication failed (401 Unauthorized)';
  if (s.includes('404') || s.includes('not found')) return 'Stream not found (404)';
  if (s.includes('timed out') || s.includes('timeout')) return 'Connection timeout';
  if (s.includes('no route to host')) return 'No route to host';
  if (s.includes('name or service not known') || s.includes('failed to resolve')) return 'Host name could not be resolved';
  const last = stderr.trim().split('\n').filter(Boolean).pop();
  return last ? redactUrl(last).slice(0, 300) : 'ffprobe failed';
}

/**
 * Probes `url`. Rejects only with 403 FORBIDDEN (destination policy) or 429 SlotsFull (too many
 * ffmpeg processes); every other failure is `{ ok: false, error: PROBE_FAILED }` at the timeout.
 */
export async function probeStream(url: string, timeoutS: number, ffprobe = process.env.ANPR_FFPROBE ?? 'ffprobe', log: Logger = silentLogger): Promise<ProbeResult> {
  const t0 = Date.now();
  await checkProbeDestination(url);
  const args = ['-v', 'error', '-hide_banner'];
  if (url.startsWith('rtsp')) args.push('-rtsp_transport', 'tcp', '-timeout', String(Math.round(timeoutS * 1e6)));
  args.push('-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,avg_frame_rate,r_frame_rate', '-of', 'json', url);
  const r = await runCameraTool(ffprobe, args, timeoutS);
  if (r.spawnError) return { ok: false, error: `cannot run ffprobe: ${r.spawnError}`, ms: r.ms };
  let reason: string;
  if (r.code === 0) {
    try {
      const s = (JSON.parse(r.stdout.toString()).streams ?? [])[0];
      if (s && s.width && s.height) {
        const info = { codec: CODEC_NAMES[s.codec_name] ?? String(s.codec_name).toUpperCase(), width: s.width, height: s.height, fps: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate) };
        return { ok: true, ms: r.ms, info };
      }
      reason = 'No video stream found';
    } catch {
      reason = 'Unreadable ffprobe output';
    }
  } else {
    // ffprobe's own -timeout ends with a generic 'Invalid data' message: the clock tells.
    reason = probeReason(r.stderr, r.timedOut || r.ms >= timeoutS * 1000 - 100);
  }
  log.warn({ url: redactUrl(url), reason: redactUrl(reason), ms: r.ms }, 'camera probe failed');
  return { ok: false, error: PROBE_FAILED, ms: await answerAtTimeout(t0, timeoutS * 1000 + TOOL_GRACE_MS) };
}
