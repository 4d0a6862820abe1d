/**
 * Capture latency: how long after the RTSP server sends a new picture it reaches the
 * recognizer as an RGB frame. A clip turns from black to white at 3 s; it is served by the
 * project's GStreamer RTSP server, which reports when it started playing; ffmpeg runs with the
 * capture's own arguments (`ffmpegArgs`) and, as the baseline, the same without the low-delay
 * input flags. Five runs each, interleaved.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegArgs } from '../edge/capture/ffmpeg-args.js';
import { startRtspServer } from '../edge/demo/rtsp-server.js';

const W = 320, H = 240, FPS = 5, SWITCH_MS = 3000;
const dir = mkdtempSync(join(tmpdir(), 'anpr-bench-capture-'));
const clip = join(dir, 'black-white.mp4');
const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `color=black:s=${W}x${H}:r=10:d=${SWITCH_MS / 1000}`, '-f', 'lavfi', '-i', `color=white:s=${W}x${H}:r=10:d=4`,
  '-filter_complex', '[0][1]concat=n=2:v=1', '-c:v', 'libx264', '-bf', '0', '-g', '20', '-pix_fmt', 'yuv420p', clip]);
if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);

/** ms from the white picture leaving the server to its first RGB frame out of ffmpeg. */
async function once(args: string[]): Promise<number> {
  const srv = await startRtspServer({ file: clip });
  try {
    const argv = args.map((a) => (a === 'rtsp://URL' ? srv.url : a));
    const ff = spawn('ffmpeg', argv, { stdio: ['ignore', 'pipe', 'ignore'] });
    const size = W * H * 3;
    let buf = Buffer.alloc(0);
    const white = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no white frame within 15 s')), 15_000);
      ff.stdout.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        for (; buf.length >= size; buf = buf.subarray(size)) if (buf[size >> 1] > 200) (clearTimeout(timer), resolve(Date.now()));
      });
    });
    ff.kill('SIGKILL');
    return white - ((await srv.playingAt()) + SWITCH_MS);
  } finally {
    await srv.close();
  }
}

const capture = ffmpegArgs({ url: 'rtsp://URL', width: W, height: H, fps: FPS });
const i = capture.indexOf('low_delay');
const baseline = i > 0 ? [...capture.slice(0, i - 1), ...capture.slice(i + 1)] : capture;
const res: Record<string, number[]> = { capture: [], 'without low_delay': [] };
for (let k = 0; k < 5; k++) {
  res.capture.push(await once(capture));
  res['without low_delay'].push(await once(baseline));
}
rmSync(dir, { recursive: true, force: true });
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const [k, v] of Object.entries(res)) console.log(`${k.padEnd(18)} median ${med(v)} ms  (${v.join(', ')}) at ${FPS} fps`);
