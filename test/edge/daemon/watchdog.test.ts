/**
 * Liveness: a wedged camera loop (a frame that never finishes) makes /healthz say down and stops
 * the systemd watchdog pets, so systemd restarts the daemon; a camera whose stream is down does not.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { request } from 'undici';
import { EdgeDaemon } from '../../../edge/daemon/daemon.js';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import type { CameraRecognizer, Frame, Recognizer } from '../../../edge/contracts.js';
import { FakeRecognizer } from '../../fixtures/fake-recognizer.js';
import { tempDir, makeClip } from '../../fixtures/media.js';
import { waitFor } from '../../fixtures/wait.js';
import { hasSystemdNotify, startNotifySocket } from '../../fixtures/notify-socket.js';

const dir = tempDir(t, 'anpr-watchdog-');
const clip = makeClip(dir, { seconds: 2, size: '160x120', rate: 10 });

/** FakeRecognizer, except that one camera's push hangs from `wedge()` until `release()`. */
class WedgingRecognizer implements Recognizer {
  private readonly inner = new FakeRecognizer(3);
  private wedged = false;
  private waiters: Array<() => void> = [];
  constructor(private readonly camera: string) {}
  wedge(): void {
    this.wedged = true;
  }
  release(): void {
    this.wedged = false;
    for (const w of this.waiters.splice(0)) w();
  }
  forCamera(id: string): CameraRecognizer {
    const rec = this.inner.forCamera(id);
    return {
      push: async (f: Frame) => {
        if (id === this.camera && this.wedged) await new Promise<void>((r) => this.waiters.push(r));
        return rec.push(f);
      },
      flush: () => rec.flush(),
      get openTracks() {
        return rec.openTracks;
      },
    };
  }
  async dispose(): Promise<void> {}
}

function logs() {
  const lines: Array<{ msg: string; stuck?: Array<{ camera: string }> }> = [];
  const stream = new Writable({ write(c, _e, cb) { for (const l of String(c).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); cb(); } });
  return { logger: pino({ level: 'info' }, stream), lines };
}

t.test('a wedged camera loop: /healthz down (503) and no more watchdog pets; a camera without a stream is only degraded', async (t) => {
  const sd = hasSystemdNotify();
  const notify = sd ? await startNotifySocket(t, tempDir(t)) : null;
  const saved = { n: process.env.NOTIFY_SOCKET, w: process.env.WATCHDOG_USEC };
  t.teardown(() => {
    for (const [k, v] of [['NOTIFY_SOCKET', saved.n], ['WATCHDOG_USEC', saved.w]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  if (notify) {
    process.env.NOTIFY_SOCKET = notify.path;
    process.env.WATCHDOG_USEC = '2000000'; // a check every second
  } else t.comment('systemd-notify not installed: the watchdog part is skipped');
  const { logger, lines } = logs();
  const cfg = parseEdgeConfig({
    edge_id: 'wd',
    data_dir: tempDir(t),
    cameras: [
      { id: 'cam-ok', rtsp_url: clip, fps: 10, resolution: { width: 160, height: 120 } },
      { id: 'cam-wedged', rtsp_url: clip, fps: 10, resolution: { width: 160, height: 120 } },
      // Nothing listens on port 1: this camera never gets a frame (its stream is down).
      { id: 'cam-nostream', rtsp_url: 'rtsp://127.0.0.1:1/none', fps: 5, resolution: { width: 160, height: 120 }, heartbeat_s: 1 },
    ],
    watchdog: { stall_s: 1 },
    http: { port: 0 },
  });
  const rec = new WedgingRecognizer('cam-wedged');
  const d = new EdgeDaemon({ config: cfg, recognizer: rec, logger });
  t.teardown(async () => {
    rec.release();
    await d.stop();
  });
  await d.start();
  const healthz = async () => {
    const res = await request(`${d.httpUrl}/healthz`);
    return { code: res.statusCode, body: (await res.body.json()) as { status: string; problems: string[] } };
  };
  await waitFor(() => d.eventsCommitted >= 2, 'events flowing');
  await waitFor(() => d.status().cameras.find((c) => c.cameraId === 'cam-nostream')!.restarts >= 1, 'the stream-less camera restarted by its supervisor');
  if (notify) await waitFor(() => notify.received().includes('WATCHDOG=1'), 'watchdog petted while live');
  let h = await healthz();
  t.equal(h.code, 200, 'a camera without a stream is not a wedged daemon');
  t.equal(h.body.status, 'degraded');
  t.same(d.stuckCameras(), []);

  rec.wedge();
  await waitFor(async () => (await healthz()).code === 503, '/healthz down once the loop is wedged');
  h = await healthz();
  t.equal(h.body.status, 'down');
  t.match(h.body.problems.join(), /cam-wedged: one frame in analysis for \d+ s \(wedged\)/);
  t.same(d.stuckCameras().map((s) => s.camera), ['cam-wedged'], 'only the wedged camera; not the one without a stream');
  if (notify) {
    await waitFor(() => lines.some((l) => /no longer petting the systemd watchdog/.test(l.msg)), 'watchdog pets stopped');
    t.same(lines.find((l) => /no longer petting/.test(l.msg))!.stuck!.map((s) => s.camera), ['cam-wedged']);
  }

  rec.release();
  await waitFor(async () => (await healthz()).code === 200, 'live again once the frame finishes');
  if (notify) await waitFor(() => lines.some((l) => /live again: petting/.test(l.msg)), 'pets resumed');
});
