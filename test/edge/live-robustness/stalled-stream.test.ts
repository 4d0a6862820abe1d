/**
 * Bad input on the live path, part 4: a frozen stream — a camera that stops sending but keeps
 * the connection open — and one that accepts the connection and never answers. The capture's
 * heartbeat must restart ffmpeg, the recognizer must not make a second event of the plate it
 * sees again after the restart, and nothing may be left running.
 */
import t from 'tap';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { CameraCapture } from '../../../edge/capture/camera-capture.js';
import { isAlive } from '../../fixtures/media.js';
import { edgeRecognizer, openTracks, renderFrame, runLive } from './fixtures.js';

const fast = { initialMs: 100, maxMs: 400, jitter: 'equal' as const };

t.test('an MJPEG camera that freezes mid-stream, connection open: heartbeat restart, frames again, still one event', async (t) => {
  const rec = await edgeRecognizer();
  t.teardown(() => rec.dispose());
  const W = 960;
  const H = 540;
  const jpeg = await sharp(await renderFrame(W, H, [{ x: 278, y: 270, w: 403, h: 216, colour: '#c0392b', plate: 'KXR 482' }]), { raw: { width: W, height: H, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
  // Each connection gets 8 frames at 5 fps, then nothing more, its socket left open: a camera
  // whose encoder hung.
  const BURST = 8;
  const open = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  let connections = 0;
  let capture!: CameraCapture;
  const pids = new Set<number>();
  const server = createHttpServer((_req, res) => {
    connections++;
    // The ffmpeg that connected.
    const pid = capture.status().pid;
    if (pid) pids.add(pid);
    open.add(res);
    res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame' });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
      res.write(jpeg);
      res.write('\r\n');
      if (++sent >= BURST) clearInterval(timer);
    }, 200);
    timers.add(timer);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const timer of timers) clearInterval(timer);
    for (const res of open) res.destroy();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;

  capture = new CameraCapture({ cameraId: 'mjpeg', url: `http://127.0.0.1:${port}/video.mjpg`, width: W, height: H, fps: 5, heartbeatMs: 1_500, stopGraceMs: 500, backoff: fast });
  t.teardown(() => capture.stop());
  const cam = rec.forCamera('mjpeg');
  const restarts: string[] = [];
  capture.on('restart', (r: { why: string }) => restarts.push(r.why));
  let maxTracks = 0;
  const run = await runLive({
    capture,
    cam,
    onFrame: () => {
      maxTracks = Math.max(maxTracks, openTracks(cam));
    },
    // Frames from a third connection: the stream froze and was restarted twice.
    until: () => connections >= 3 && restarts.length >= 2,
  });
  t.ok(restarts.length >= 2 && restarts.every((why) => /no frame for 1500 ms/.test(why)), `restarted by the heartbeat: ${restarts.join('; ')}`);
  t.ok(pids.size >= 3, `${pids.size} ffmpeg runs connected`);
  t.same(run.reads.map((r) => r.plateText), ['KXR482'], 'the plate seen again after each restart is one event (the de-dup window)');
  t.ok(maxTracks <= 1, `${maxTracks} track open at most`);
  t.equal(capture.status().state, 'stopped');
  t.ok([...pids].every((pid) => !isAlive(pid)), 'no ffmpeg left running');
});

t.test('an RTSP camera that accepts the connection and never answers: restarted by the start-up allowance, no frame, nothing left running', async (t) => {
  const sockets = new Set<Socket>();
  let connections = 0;
  let capture!: CameraCapture;
  const pids = new Set<number>();
  const server = createTcpServer((s) => {
    connections++;
    // The ffmpeg that connected.
    const pid = capture.status().pid;
    if (pid) pids.add(pid);
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  // ffmpeg's own socket timeout (60 s) would come far later: the start-up allowance decides.
  capture = new CameraCapture({ cameraId: 'mute', url: `rtsp://127.0.0.1:${port}/stream`, width: 320, height: 240, fps: 5, heartbeatMs: 1_000, startTimeoutMs: 1_000, stopGraceMs: 500, ioTimeoutS: 60, backoff: fast });
  t.teardown(() => capture.stop());
  const twice = new Promise<string[]>((resolve) => {
    const why: string[] = [];
    capture.on('restart', (r: { why: string }) => {
      why.push(r.why);
      if (why.length >= 2) resolve(why);
    });
  });
  capture.start();
  const why = await twice;
  t.ok(why.every((w) => /no first frame within 1000 ms/.test(w)), why.join('; '));
  t.ok(connections >= 2, `${connections} connections: ffmpeg was started again`);
  t.equal(capture.status().frames, 0);
  const stopped = capture.nextFrame();
  await capture.stop();
  t.equal(await stopped, null, 'a consumer waiting for a frame is released on stop');
  t.ok(pids.size >= 2 && [...pids].every((pid) => !isAlive(pid)), `no ffmpeg left running (${pids.size} runs)`);
});
