/**
 * `anpr doctor`: checks what an installer gets wrong, and says plainly what to fix.
 * ffmpeg, the models and their checksums, execution providers, each camera's stream, the cloud
 * (reachable, API key accepted), the data directory and the image disk budget.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync, statfsSync } from 'node:fs';
import { promisify } from 'node:util';
import { redactUrl } from '../../shared/log.js';
import { ffmpegArgs, sourceKind } from '../capture/ffmpeg-args.js';
import type { EdgeConfig } from '../config/schema.js';

export type CheckState = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  state: CheckState;
  detail: string;
  fix?: string;
}

const run = promisify(execFile);

async function checkBinary(bin: string): Promise<CheckResult> {
  try {
    const { stdout } = await run(bin, ['-version'], { timeout: 10_000 });
    return { name: bin, state: 'ok', detail: stdout.split('\n')[0] };
  } catch {
    return { name: bin, state: 'fail', detail: `${bin} not found or not runnable`, fix: 'sudo apt-get install -y ffmpeg (or run scripts/setup.sh)' };
  }
}

/** Probes a stream with ffprobe (RTSP over TCP), then decodes one frame with the daemon's own ffmpeg arguments. */
export async function checkCamera(cam: EdgeConfig['cameras'][number], timeoutS = 10): Promise<CheckResult> {
  const name = `camera ${cam.id}`;
  const safe = redactUrl(cam.rtsp_url);
  if (!cam.enabled) return { name, state: 'ok', detail: `disabled (${safe})` };
  const kind = sourceKind(cam.rtsp_url);
  const probeArgs = ['-v', 'error', ...(kind === 'rtsp' ? ['-rtsp_transport', 'tcp', '-timeout', String(timeoutS * 1_000_000)] : []), '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,avg_frame_rate', '-of', 'json', cam.rtsp_url.replace(/^file:(\/\/)?/i, '')];
  let stream: { codec_name?: string; width?: number; height?: number; avg_frame_rate?: string } | undefined;
  try {
    const { stdout } = await run('ffprobe', probeArgs, { timeout: (timeoutS + 5) * 1000 });
    stream = (JSON.parse(stdout) as { streams?: Array<typeof stream> }).streams?.[0];
  } catch (e) {
    const msg = redactUrl(String((e as { stderr?: string }).stderr || (e as Error).message)).trim().split('\n').pop() ?? '';
    const fix = /401|Unauthorized/i.test(msg)
      ? 'the camera refused the user/password in rtsp_url'
      : /refused|No route|timed out|Connection timed out|Immediate exit/i.test(msg)
        ? 'check the camera address/port is reachable from this box (ping, firewall, RTSP port 554)'
        : /404|Not Found/i.test(msg)
          ? 'the stream path is wrong; check the camera\'s RTSP path (e.g. /Streaming/Channels/101)'
          : 'check rtsp_url; try it with: ffprobe -rtsp_transport tcp URL';
    return { name, state: 'fail', detail: `${safe}: ${msg || 'no answer'}`, fix };
  }
  if (!stream) return { name, state: 'fail', detail: `${safe}: no video stream`, fix: 'the URL answers but carries no video; pick the camera\'s video stream path' };
  // One frame through the exact capture command line proves decoding (and hwaccel flags) work.
  const args = ffmpegArgs({ url: cam.rtsp_url, width: cam.resolution.width, height: cam.resolution.height, fps: cam.fps, hwaccel: cam.hwaccel, inputArgs: cam.ffmpeg_input_args, realtime: false, ioTimeoutS: timeoutS });
  args.splice(args.indexOf('-f'), 0, '-frames:v', '1');
  try {
    const { stdout } = await run('ffmpeg', args, { timeout: (timeoutS + 10) * 1000, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
    const want = cam.resolution.width * cam.resolution.height * 3;
    if (stdout.length < want) throw new Error(`decoded ${stdout.length} of ${want} bytes`);
  } catch (e) {
    const msg = redactUrl(String((e as { stderr?: Buffer }).stderr ?? (e as Error).message)).trim().split('\n').pop();
    return {
      name,
      state: 'fail',
      detail: `${safe}: ${stream.codec_name} ${stream.width}x${stream.height} probes but does not decode: ${msg}`,
      fix: cam.hwaccel !== 'none' ? `hardware decoding (${cam.hwaccel}) failed; set hwaccel: none or install the GPU driver/ffmpeg build` : 'check the codec is supported by this ffmpeg',
    };
  }
  const fps = stream.avg_frame_rate && stream.avg_frame_rate.includes('/') ? (() => { const [a, b] = stream!.avg_frame_rate!.split('/').map(Number); return b ? a / b : 0; })() : 0;
  const warn = fps > 0 && cam.fps > fps;
  return {
    name,
    state: warn ? 'warn' : 'ok',
    detail: `${safe}: ${stream.codec_name} ${stream.width}x${stream.height}${fps ? ` @ ${fps.toFixed(1)} fps` : ''}, decodes to ${cam.resolution.width}x${cam.resolution.height}`,
    ...(warn ? { fix: `fps ${cam.fps} is above the stream's ${fps.toFixed(1)}; lower cameras[].fps` } : {}),
  };
}

export async function checkCloud(cloud: NonNullable<EdgeConfig['cloud']>): Promise<CheckResult[]> {
  const { request } = await import('undici');
  const base = cloud.url.endsWith('/') ? cloud.url : cloud.url + '/';
  const out: CheckResult[] = [];
  try {
    const res = await request(new URL('healthz', base), { headersTimeout: 5000, bodyTimeout: 5000 });
    await res.body.text();
    out.push(res.statusCode === 200
      ? { name: 'cloud', state: 'ok', detail: `${redactUrl(cloud.url)} answers` }
      : { name: 'cloud', state: 'warn', detail: `${redactUrl(cloud.url)}/healthz says HTTP ${res.statusCode}`, fix: 'the cloud is up but unhealthy; see its logs (journalctl -u anpr-cloud)' });
  } catch (e) {
    out.push({ name: 'cloud', state: 'fail', detail: `${redactUrl(cloud.url)}: ${(e as Error).message}`, fix: 'check cloud.url and the network; events are buffered in the outbox meanwhile' });
    return out;
  }
  try {
    const res = await request(new URL('config/cameras?limit=1', base), { headers: { 'x-api-key': cloud.api_key }, headersTimeout: 5000, bodyTimeout: 5000 });
    await res.body.text();
    out.push(res.statusCode === 200
      ? { name: 'cloud API key', state: 'ok', detail: 'accepted' }
      : { name: 'cloud API key', state: 'fail', detail: `rejected (HTTP ${res.statusCode})`, fix: 'create one on the cloud: anpr apikey create EDGE_NAME, and put it in cloud.api_key' });
  } catch (e) {
    out.push({ name: 'cloud API key', state: 'fail', detail: (e as Error).message });
  }
  return out;
}

export function checkDisk(cfg: EdgeConfig): CheckResult {
  try {
    mkdirSync(cfg.data_dir, { recursive: true });
    accessSync(cfg.data_dir, constants.W_OK);
  } catch (e) {
    return { name: 'data_dir', state: 'fail', detail: `${cfg.data_dir}: ${(e as Error).message}`, fix: `create it and give the service user write access: sudo install -d -o anpr -g anpr ${cfg.data_dir}` };
  }
  const s = statfsSync(cfg.data_dir);
  const free = s.bavail * s.bsize;
  const budget = cfg.outbox.image_budget_mb * 1024 * 1024;
  const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
  if (free < budget * 1.1) {
    return { name: 'disk budget', state: free < budget * 0.25 ? 'fail' : 'warn', detail: `${mib(free)} free in ${cfg.data_dir}, image budget ${mib(budget)}`, fix: `lower outbox.image_budget_mb below ${Math.floor((free * 0.8) / 1048576)} or free disk space` };
  }
  return { name: 'disk budget', state: 'ok', detail: `${mib(free)} free in ${cfg.data_dir}, image budget ${mib(budget)}` };
}

async function checkModels(cfg: EdgeConfig): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  try {
    const { ModelStore } = await import('../inference/model-store.js');
    const store = await ModelStore.open({ mirror: cfg.models.mirror ?? undefined, modelsDir: cfg.models.dir ?? undefined });
    for (const m of store.manifest.models) {
      const s = await store.status(m.id);
      const optional = 'mirror' in m.source;
      if (s.state === 'ok') out.push({ name: `model ${m.id}`, state: 'ok', detail: `sha256 ok (${s.origin})` });
      else if (s.state === 'missing' && optional) out.push({ name: `model ${m.id}`, state: 'warn', detail: 'not installed (optional)', fix: 'anpr models fetch --mirror DIR, or set models.mirror' });
      else out.push({ name: `model ${m.id}`, state: 'fail', detail: s.state === 'missing' ? 'missing' : `checksum mismatch at ${s.path}`, fix: s.state === 'missing' ? 'npm ci (npm-shipped models) or anpr models fetch' : 'the file is corrupt or altered: delete it and run anpr models fetch' });
    }
    const { providerAvailable } = await import('../inference/providers.js');
    for (const p of cfg.models.providers) {
      const ok = providerAvailable(p);
      out.push({ name: `provider ${p}`, state: ok ? 'ok' : 'warn', detail: ok ? 'available' : 'not available in this onnxruntime build; CPU is used', ...(ok ? {} : { fix: `remove ${p} from models.providers or install an onnxruntime-node build with it` }) });
    }
  } catch (e) {
    out.push({ name: 'models', state: 'fail', detail: (e as Error).message, fix: 'npm ci, then anpr models verify' });
  }
  return out;
}

export async function runDoctor(cfg: EdgeConfig, opts: { cameraTimeoutS?: number; skipModels?: boolean } = {}): Promise<CheckResult[]> {
  const results: CheckResult[] = [await checkBinary('ffmpeg'), await checkBinary('ffprobe')];
  if (!opts.skipModels) results.push(...(await checkModels(cfg)));
  results.push(...(await Promise.all(cfg.cameras.map((c) => checkCamera(c, opts.cameraTimeoutS)))));
  if (!cfg.cameras.length && !cfg.cloud?.sync_config) results.push({ name: 'cameras', state: 'warn', detail: 'no cameras configured', fix: 'add cameras: [{id, rtsp_url}] to the config' });
  if (cfg.cloud) results.push(...(await checkCloud(cfg.cloud)));
  else results.push({ name: 'cloud', state: 'warn', detail: 'no cloud configured: events stay on this box (and go to the configured exporters)' });
  results.push(checkDisk(cfg));
  return results;
}

export function formatResults(results: CheckResult[]): string {
  const mark = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
  const lines = results.map((r) => `[${mark[r.state]}] ${r.name}: ${r.detail}${r.fix ? `\n       fix: ${r.fix}` : ''}`);
  const fails = results.filter((r) => r.state === 'fail').length;
  const warns = results.filter((r) => r.state === 'warn').length;
  lines.push('', fails ? `${fails} problem(s) to fix${warns ? `, ${warns} warning(s)` : ''}.` : warns ? `No problems; ${warns} warning(s).` : 'All good.');
  return lines.join('\n');
}
