import t from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { CameraCapture } from '../../../edge/capture/camera-capture.js';
import { tempDir, makeClip, makeGarbage, makeStubbornFfmpeg, isAlive } from '../../fixtures/media.js';
import { waitFor } from '../../fixtures/wait.js';

const dir = tempDir(t, 'anpr-capture-');
const clip = makeClip(dir, { seconds: 2, size: '160x120', rate: 10 });

function captureLogs(): { logger: pino.Logger; text: () => string } {
  let buf = '';
  const stream = new Writable({ write(c, _e, cb) { buf += c.toString(); cb(); } });
  return { logger: pino({ level: 'debug' }, stream), text: () => buf };
}

const fast = { initialMs: 100, maxMs: 400, jitter: 'equal' as const };

t.test('a file source yields RGB24 frames of the configured size, with increasing seq', async (t) => {
  const cap = new CameraCapture({ cameraId: 'cam-a', url: clip, width: 80, height: 60, fps: 10, backoff: fast });
  t.teardown(() => cap.stop());
  cap.start();
  const seen: number[] = [];
  for (let i = 0; i < 5; i++) {
    const f = await cap.nextFrame();
    if (!f) throw new Error('stream ended');
    t.equal(f.data.length, 80 * 60 * 3);
    t.equal(f.cameraId, 'cam-a');
    seen.push(f.seq);
  }
  t.ok(seen.every((s, i) => i === 0 || s > seen[i - 1]), 'seq increases');
  const pid = cap.status().pid!;
  t.ok(isAlive(pid));
  await cap.stop();
  t.notOk(isAlive(pid), 'ffmpeg gone after stop');
  t.equal(cap.status().state, 'stopped');
  t.equal(await cap.nextFrame(), null, 'consumers are released on stop');
});

t.test('stale frames are dropped while the consumer is busy: only the latest is kept', async (t) => {
  const cap = new CameraCapture({ cameraId: 'cam-b', url: clip, width: 32, height: 24, fps: 25, realtime: false, backoff: fast });
  t.teardown(() => cap.stop());
  cap.start();
  const first = await cap.nextFrame();
  // Be "busy" until several frames have arrived.
  await new Promise<void>((resolve) => {
    let n = 0;
    const on = () => { if (++n >= 5) { cap.off('frame', on); resolve(); } };
    cap.on('frame', on);
  });
  const next = await cap.nextFrame();
  t.ok(next!.seq >= first!.seq + 5, `jumped from ${first!.seq} to ${next!.seq}`);
  t.ok(cap.status().dropped >= 4, 'older frames counted as dropped');
});

t.test('a garbage source fails, is restarted with backoff, and the error is kept', async (t) => {
  const cap = new CameraCapture({ cameraId: 'cam-g', url: makeGarbage(dir), width: 32, height: 24, fps: 5, backoff: fast });
  t.teardown(() => cap.stop());
  const delays: number[] = [];
  const restarted = new Promise<void>((resolve) => cap.on('restart', (r: { delayMs: number }) => { delays.push(r.delayMs); if (delays.length >= 3) resolve(); }));
  cap.start();
  await restarted;
  t.equal(cap.status().frames, 0);
  t.match(cap.status().lastError, /ffmpeg exited \(code [1-9]/);
  t.ok(delays[2] >= 200 && delays[2] <= 400, `third delay ${delays[2]} grows exponentially (jittered, capped)`);
  t.ok(delays[0] >= 50 && delays[0] <= 100, `first delay ${delays[0]}`);
});

t.test('a stalling source trips the heartbeat; credentials never reach the logs', async (t) => {
  const sockets = new Set<import('node:net').Socket>();
  let requests = 0;
  // Answers with MJPEG headers and then never sends a byte: ffmpeg waits forever.
  const server: Server = createServer((req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame' });
    res.flushHeaders();
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close(); });
  const port = (server.address() as AddressInfo).port;
  const logs = captureLogs();
  const cap = new CameraCapture({
    cameraId: 'cam-s', url: `http://admin:hunter2@127.0.0.1:${port}/video.mjpg`, width: 32, height: 24, fps: 5,
    heartbeatMs: 800, startTimeoutMs: 800, stopGraceMs: 300, ioTimeoutS: 60, backoff: fast, logger: logs.logger,
  });
  t.teardown(() => cap.stop());
  const why = new Promise<string>((resolve) => cap.on('restart', (r: { why: string }) => resolve(r.why)));
  cap.start();
  const reason = await why;
  t.match(reason, /no first frame within 800 ms/, reason);
  await new Promise<void>((r) => { const i = setInterval(() => { if (requests >= 2) { clearInterval(i); r(); } }, 50); });
  t.ok(requests >= 2, 'ffmpeg was started again after the stall');
  const text = logs.text();
  t.match(text, /starting ffmpeg/);
  t.notMatch(text, /hunter2/, 'password never logged');
  t.notMatch(JSON.stringify(cap.status()), /hunter2/);
});

t.test('a slow first frame is given the start-up allowance, not the heartbeat; a stall after frames trips the heartbeat', async (t) => {
  const jpeg = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=32x24:rate=1', '-frames:v', '1', '-f', 'mjpeg', 'pipe:1']);
  const sockets = new Set<import('node:net').Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let requests = 0;
  // Like a camera that takes seconds to negotiate: the first picture comes after 2.5 s, then ten
  // pictures at 10 fps, then nothing while the connection stays open.
  const server: Server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame' });
    res.flushHeaders();
    let sent = 0;
    const send = () => {
      res.write(`--frame\r\ncontent-type: image/jpeg\r\ncontent-length: ${jpeg.length}\r\n\r\n`);
      res.write(jpeg);
      res.write('\r\n');
      if (++sent < 10) timers.add(setTimeout(send, 100));
    };
    timers.add(setTimeout(send, 2_500));
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => { for (const x of timers) clearTimeout(x); for (const s of sockets) s.destroy(); server.close(); });
  const cap = new CameraCapture({
    cameraId: 'cam-slow', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v.mjpg`, width: 32, height: 24, fps: 5,
    heartbeatMs: 1_000, startTimeoutMs: 20_000, stopGraceMs: 300, ioTimeoutS: 60, backoff: fast,
  });
  t.teardown(() => cap.stop());
  const why = new Promise<string>((resolve) => cap.on('restart', (r: { why: string }) => resolve(r.why)));
  cap.start();
  const first = await cap.nextFrame();
  t.ok(first, 'the first frame arrived although it took longer than the heartbeat');
  t.equal(cap.status().restarts, 0, 'not restarted while starting');
  t.equal(requests, 1);
  t.match(await why, /^no frame for 1000 ms$/, 'the stall after the first frames is the heartbeat');
});

t.test('stop escalates q -> SIGTERM -> SIGKILL for a process that ignores both', async (t) => {
  const cap = new CameraCapture({
    cameraId: 'cam-x', url: clip, width: 32, height: 24, fps: 5, ffmpegPath: makeStubbornFfmpeg(dir), stopGraceMs: 300, heartbeatMs: 60_000,
  });
  cap.start();
  // Wait until the stub ignores SIGTERM (its trap is set: bit 15 of SigIgn), so the escalation is really needed.
  const ignoresTerm = (pid: number | null | undefined) => {
    try {
      return !!pid && (parseInt(/SigIgn:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!, 16) & (1 << 14)) !== 0;
    } catch {
      return false;
    }
  };
  await waitFor(() => ignoresTerm(cap.status().pid), 'the stubborn ffmpeg ignoring SIGTERM');
  const pid = cap.status().pid!;
  t.ok(isAlive(pid));
  await cap.stop();
  t.notOk(isAlive(pid), 'killed');
});

t.test('a camera whose ffmpeg dies is recovered while another camera keeps delivering', async (t) => {
  const a = new CameraCapture({ cameraId: 'cam-1', url: clip, width: 32, height: 24, fps: 10, backoff: fast });
  const b = new CameraCapture({ cameraId: 'cam-2', url: clip, width: 32, height: 24, fps: 10, backoff: fast });
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  a.start();
  b.start();
  await a.nextFrame();
  await b.nextFrame();
  const pidA = a.status().pid!;
  process.kill(pidA, 'SIGKILL');
  const bBefore = b.status().frames;
  await new Promise<void>((r) => a.once('restart', () => r()));
  const f = await a.nextFrame();
  t.ok(f, 'frames again after the restart');
  t.not(a.status().pid, pidA, 'a new ffmpeg');
  t.equal(a.status().restarts, 1);
  await waitFor(() => b.status().frames > bBefore + 3, 'the other camera kept delivering');
  t.pass('the other camera never stopped');
  t.equal(b.status().restarts, 0);
});

t.test('a URL spawn refuses (NUL byte) fails the capture once: start() does not throw, nothing is retried, credentials stay out', async (t) => {
  const { logger, text } = captureLogs();
  const cap = new CameraCapture({ cameraId: 'cam-nul', url: 'rtsp://user:secret@127.0.0.1:1/a\u0000b', width: 80, height: 60, fps: 5, backoff: fast, logger });
  t.teardown(() => cap.stop());
  t.doesNotThrow(() => cap.start());
  const s = cap.status();
  t.equal(s.state, 'failed');
  t.match(s.lastError, /cannot start ffmpeg/);
  t.notMatch(s.lastError, /secret|\u0000/);
  t.equal(await cap.nextFrame(), null, 'a consumer is released, not left waiting');
  t.equal(cap.status().restarts, 0);
  t.equal(text().match(/camera failed/g)?.length, 1, 'logged once');
  t.notMatch(text(), /secret/);
  await cap.stop();
  t.equal(cap.status().state, 'stopped');
});
