/**
 * Amplification through snapshots (issue 11, item 9): 100 concurrent snapshots by one viewer
 * started 100 ffmpeg processes. Every ffmpeg/ffprobe the cloud starts takes one of
 * ANPR_FFMPEG_MAX slots; ANPR_FFMPEG_QUEUE requests may wait; the rest get 429 + Retry-After.
 */
process.env.ANPR_FFMPEG_MAX = '2';
process.env.ANPR_FFMPEG_QUEUE = '1';

import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestCloud } from './helpers.js';

/** Live ffmpeg/ffprobe processes whose command line mentions `needle`. */
function toolsFor(needle: string): number {
  let n = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1];
      if (state !== 'Z' && /ff(mpeg|probe)$/.test(cmd[0] ?? '') && cmd.some((a) => a.includes(needle))) n++;
    } catch {
      // the process ended while we looked
    }
  }
  return n;
}

t.test('snapshots and camera tests share a bounded number of ffmpeg processes', async (t) => {
  const c = await startTestCloud(t);
  // An RTSP port that accepts and never answers: each ffmpeg holds its slot until its timeout.
  const sockets = new Set<Socket>();
  let accepted = 0;
  let onAccept = () => {};
  const mute = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    accepted++;
    onAccept();
  });
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    mute.close();
  });
  const port = (mute.address() as AddressInfo).port;
  const url = `rtsp://127.0.0.1:${port}/cap`;
  const cam = (await (await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: { name: 'Gate', rtsp_url: url } })).json()).id as string;
  const viewer = await c.addUser('v', 'viewer-pass', 'viewer');

  const twoConnected = new Promise<void>((r) => (onAccept = () => accepted >= 2 && r()));
  const requests = Array.from({ length: 6 }, () => c.req(`/config/cameras/${cam}/snapshot?timeout=3`, { token: viewer }));
  await twoConnected;
  // The camera test, too, waits for (or is refused) a slot rather than starting a third process.
  const test = c.req(`/config/cameras/${cam}/test?timeout=3`, { method: 'POST', token: c.adminToken });
  const refused = await test;
  t.equal(refused.status, 429, 'camera test refused while the slots and the line are full');
  t.match(await refused.json(), { error_code: 'CONCURRENCY_LIMIT_EXCEEDED', retry_after_seconds: Number });
  t.match(refused.headers.get('retry-after'), /^\d+$/, 'with a Retry-After header (set by the error handler)');
  t.equal(toolsFor(`127.0.0.1:${port}/cap`), 2, 'two ffmpeg processes, not six');

  const answers = await Promise.all(requests.map(async (p) => {
    const r = await p;
    return { status: r.status, retryAfter: r.headers.get('retry-after'), body: (await r.json()) as { error_code: string } };
  }));
  const statuses = answers.map((a) => a.status).sort();
  t.same(statuses, [429, 429, 429, 503, 503, 503], 'two ran, one waited its turn, three were refused at once');
  for (const a of answers.filter((x) => x.status === 429)) t.match(a, { retryAfter: /^\d+$/, body: { error_code: 'CONCURRENCY_LIMIT_EXCEEDED' } });
  t.equal(accepted, 3, 'the camera saw three connections in all');
  t.equal(toolsFor(`127.0.0.1:${port}/cap`), 0, 'and no ffmpeg is left');
});
