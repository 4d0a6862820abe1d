import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import sharp from 'sharp';
import { startTestCloud } from '../helpers.js';
import { rtspUnavailable, startRtspCamera } from '../web/fixtures/rtsp.js';

const why = rtspUnavailable();

/** Pids of live ffmpeg processes whose command line mentions `needle`. */
function ffmpegsFor(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1];
      if (state !== 'Z' && /ffmpeg$/.test(cmd[0] ?? '') && cmd.some((a) => a.includes(needle))) out.push(Number(d));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

t.test('snapshot: one JPEG from a real RTSP camera, at the camera resolution', { skip: why ?? false }, async (t) => {
  const cam = await startRtspCamera(t, '320x240');
  const c = await startTestCloud(t);
  const withCreds = cam.url.replace('rtsp://', 'rtsp://viewer:s3cret-pw@');
  const created = await (await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: { name: 'Gate', rtsp_url: withCreds, resolution: { width: 640, height: 360 } } })).json();
  const viewer = await c.addUser('v', 'viewer-pass', 'viewer');
  const r = await c.req(`/config/cameras/${created.id}/snapshot?timeout=15`, { token: viewer });
  t.equal(r.status, 200);
  t.equal(r.headers.get('content-type'), 'image/jpeg');
  t.equal(r.headers.get('cache-control'), 'no-store');
  const jpeg = Buffer.from(await r.arrayBuffer());
  const meta = await sharp(jpeg).metadata();
  t.match(meta, { format: 'jpeg', width: 640, height: 360 }, 'scaled to the analysis resolution, where zones are drawn');
  const stats = await sharp(jpeg).stats();
  t.ok(stats.channels.some((ch) => ch.stdev > 20), 'a real picture (the colour bars), not a blank frame');
  t.equal((await c.req(`/config/cameras/${created.id}/snapshot`)).status, 401);
  t.equal((await c.req('/config/cameras/nope/snapshot', { token: viewer })).status, 404);
  t.equal((await c.req(`/config/cameras/${created.id}/snapshot?timeout=0`, { token: viewer })).status, 400);
});

t.test('snapshot failures: 503 in the contract body, fast at the timeout, credentials never shown', async (t) => {
  const c = await startTestCloud(t);
  // A port that accepts and then says nothing: ffmpeg waits until it is killed.
  const sockets = new Set<Socket>();
  const mute = createServer((s) => sockets.add(s));
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    mute.close();
  });
  const port = (mute.address() as { port: number }).port;
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as { port: number }).port;
  await new Promise((r) => closed.close(r));

  const mk = async (url: string) => (await (await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: { name: 'X', rtsp_url: url } })).json()).id as string;
  const silent = await mk(`rtsp://admin:hunter2@127.0.0.1:${port}/s`);
  const refused = await mk(`rtsp://admin:hunter2@127.0.0.1:${closedPort}/s`);

  const r1 = await c.req(`/config/cameras/${silent}/snapshot?timeout=1`, { token: c.adminToken });
  t.equal(r1.status, 503);
  t.same(ffmpegsFor(`127.0.0.1:${port}/s`), [], 'the ffmpeg that hung was killed');
  const b1 = await r1.json();
  t.match(b1, { error_code: 'SERVICE_UNAVAILABLE', detail: /^Snapshot failed: /, request_id: /^req-/ });
  t.notMatch(JSON.stringify(b1), /hunter2/);

  const r2 = await c.req(`/config/cameras/${refused}/snapshot?timeout=5`, { token: c.adminToken });
  t.equal(r2.status, 503);
  const b2 = await r2.json();
  t.equal(b2.detail, 'Snapshot failed: Connection failed');
  t.notMatch(JSON.stringify(b2), /hunter2/);
});
