/**
 * Probes a camera stream with ffprobe: codec, size and frame rate of its first video
 * stream, or the reason it failed (in plain words, credentials masked).
 */
import { spawn } from 'node:child_process';
import { redactUrl } from '../../shared/log.js';

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

export function probeStream(url: string, timeoutS: number, ffprobe = process.env.ANPR_FFPROBE ?? 'ffprobe'): Promise<ProbeResult> {
  const t0 = Date.now();
  const args = ['-v', 'error', '-hide_banner'];
  if (url.startsWith('rtsp')) args.push('-rtsp_transport', 'tcp', '-timeout', String(Math.round(timeoutS * 1e6)));
  args.push('-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,avg_frame_rate,r_frame_rate', '-of', 'json', url);
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    let timedOut = false;
    let child;
    try {
      child = spawn(ffprobe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ ok: false, error: `cannot run ffprobe: ${(e as Error).message}`, ms: Date.now() - t0 });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000 + 500);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 16_384) err += d.toString();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, error: `cannot run ffprobe: ${e.message}`, ms: Date.now() - t0 });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = Date.now() - t0;
      if (code === 0) {
        try {
          const s = (JSON.parse(out).streams ?? [])[0];
          if (s && s.width && s.height) {
            resolve({
              ok: true,
              ms,
              info: { codec: CODEC_NAMES[s.codec_name] ?? String(s.codec_name).toUpperCase(), width: s.width, height: s.height, fps: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate) },
            });
            return;
          }
          resolve({ ok: false, ms, error: 'No video stream found' });
          return;
        } catch {
          resolve({ ok: false, ms, error: 'Unreadable ffprobe output' });
          return;
        }
      }
      // ffprobe's own -timeout ends with a generic 'Invalid data' message: the clock tells.
      resolve({ ok: false, ms, error: probeReason(err, timedOut || ms >= timeoutS * 1000 - 100) });
    });
  });
}
