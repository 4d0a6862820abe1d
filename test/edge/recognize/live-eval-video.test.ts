import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { renderEvalVideo } from '../../../edge/recognize/live-eval/render-video.js';
import { startRtspServer } from '../../../edge/demo/rtsp-server.js';

const run = promisify(execFile);

/** Photos of different sizes and shapes: the video must still change picture at each one. */
async function photos(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const [name, w, h, colour] of [
    ['red.jpg', 640, 480, { r: 220, g: 0, b: 0 }],
    ['blue.png', 300, 900, { r: 0, g: 0, b: 220 }],
    ['green.jpg', 2000, 600, { r: 0, g: 200, b: 0 }],
  ] as const) {
    const file = join(dir, name);
    await sharp({ create: { width: w, height: h, channels: 3, background: colour } }).toFile(file);
    out.push(file);
  }
  return out;
}

/** Every frame of a video scaled to 16×9, as RGB. */
async function frames(file: string): Promise<Buffer[]> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-vf', 'scale=16:9', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 1 << 24,
  });
  const size = 16 * 9 * 3;
  return Array.from({ length: stdout.length / size }, (_, i) => stdout.subarray(i * size, (i + 1) * size));
}

const colourAt = (f: Buffer, x: number, y: number) => {
  const [r, g, b] = f.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3);
  if (r > 150 && g < 80 && b < 80) return 'red';
  if (b > 150 && r < 80 && g < 80) return 'blue';
  if (g > 130 && r < 80 && b < 80) return 'green';
  if (r < 30 && g < 30 && b < 30) return 'black';
  return `rgb(${r},${g},${b})`;
};

t.test('photos of different sizes become uniform 1920×1080 frames, each held for its time, letterboxed on black; cached by content', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'anpr-live-video-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const cacheDir = join(dir, 'cache');
  const list = await photos(dir);
  const v = await renderEvalVideo({ photos: list, holdS: 1, leadInS: 0.5, trailerS: 1, fps: 10, cacheDir });
  t.equal(v.cached, false);
  t.same([v.leadInMs, v.holdMs, v.durationMs, v.photoAtMs(0), v.photoAtMs(2), v.photoAtMs(3)], [500, 1000, 4500, 500, 2500, 3500]);

  const probe = JSON.parse(
    (await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,has_b_frames,pix_fmt,nb_frames', '-of', 'json', v.file])).stdout,
  ).streams[0];
  t.match(probe, { codec_name: 'h264', width: 1920, height: 1080, has_b_frames: 0, pix_fmt: 'yuv420p', nb_frames: '45' });

  const f = await frames(v.file);
  t.equal(f.length, 45);
  const centre = f.map((x) => colourAt(x, 8, 4));
  t.same(
    [centre[0], centre[4], centre[5], centre[14], centre[15], centre[24], centre[25], centre[34], centre[35], centre[44]],
    ['black', 'black', 'red', 'red', 'blue', 'blue', 'green', 'green', 'black', 'black'],
    'the picture changes at every photo, whatever its size',
  );
  t.equal(colourAt(f[20], 0, 4), 'black', 'a portrait photo is pillarboxed');
  t.equal(colourAt(f[30], 8, 0), 'black', 'a wide photo is letterboxed');

  const again = await renderEvalVideo({ photos: list, holdS: 1, leadInS: 0.5, trailerS: 1, fps: 10, cacheDir });
  t.equal(again.cached, true);
  t.equal(again.file, v.file);
  const other = await renderEvalVideo({ photos: list.slice(0, 2), holdS: 1, leadInS: 0.5, trailerS: 1, fps: 10, cacheDir });
  t.not(other.file, v.file, 'other photos, another video');
  t.same((await readdir(cacheDir)).filter((x) => x.endsWith('.tmp.mp4')), [], 'no partial file left');
});

t.test('the RTSP server reports when it started playing the stream to a client', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'anpr-live-rtsp-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const v = await renderEvalVideo({ photos: (await photos(dir)).slice(0, 1), holdS: 1, leadInS: 0, trailerS: 0.5, fps: 10, cacheDir: dir });
  const rtsp = await startRtspServer({ file: v.file, path: '/eval' });
  t.teardown(() => rtsp.close());
  const seen: number[] = [];
  rtsp.onPlaying((at) => seen.push(at));

  const before = Date.now();
  const client = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', rtsp.url, '-vf', 'scale=16:9', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  t.teardown(() => client.kill('SIGKILL'));
  const firstFrameAt = await new Promise<number>((resolve) => client.stdout.once('data', () => resolve(Date.now())));
  const playing = await rtsp.playingAt();
  t.ok(playing >= before && playing <= firstFrameAt, 'the stream started after the client connected and before its first frame arrived');
  await new Promise((r) => client.once('close', r));
  t.same(seen, [playing], 'one PLAYING per client');
  t.equal(await rtsp.playingAt(), playing, 'playingAt keeps the first start');
});
