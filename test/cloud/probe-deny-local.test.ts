/**
 * SSRF policy (issue 11, item 7), with ANPR_PROBE_DENY_LOCAL=1: camera tests, snapshots and
 * exporter tests refuse loopback and link-local destinations (by name too: the name is
 * resolved and every address checked) with 403, and never connect to them.
 */
process.env.ANPR_PROBE_DENY_LOCAL = '1';

import t from 'tap';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestCloud } from './helpers.js';
import { checkProbeDestination, isLocalAddress } from '../../cloud/limits/probe-policy.js';

t.test('local addresses are told from the rest, IPv4-mapped IPv6 included', async (t) => {
  for (const a of ['127.0.0.1', '127.8.9.10', '::1', '169.254.169.254', 'fe80::1', '0.0.0.0', '::', '::ffff:127.0.0.1', '::ffff:169.254.1.1']) t.ok(isLocalAddress(a), a);
  for (const a of ['10.0.0.5', '192.168.1.20', '172.16.0.1', '192.0.2.1', '2001:db8::1', '::ffff:192.168.1.20']) t.notOk(isLocalAddress(a), a);
  await t.resolves(checkProbeDestination('rtsp://user:pw@192.168.1.20:554/stream', true), 'a camera on the LAN is allowed');
  await t.rejects(checkProbeDestination('rtsp://localhost:554/stream', true), { code: 'FORBIDDEN' }, 'a name is resolved before it is judged');
  await t.resolves(checkProbeDestination('rtsp://127.0.0.1:554/stream', false), 'the setting off lets loopback through');
});

t.test('camera test, snapshot and exporter test refuse local destinations without connecting', async (t) => {
  const c = await startTestCloud(t);
  let connections = 0;
  const listener = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  t.teardown(() => listener.close());
  const port = (listener.address() as AddressInfo).port;

  const mkCam = async (rtsp_url: string) => (await (await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: { name: 'X', rtsp_url } })).json()).id as string;
  const mkExp = async (json: unknown) => (await (await c.req('/config/exporters', { method: 'POST', token: c.adminToken, json })).json()).id as string;
  const cams = [await mkCam(`rtsp://admin:hunter2@127.0.0.1:${port}/s`), await mkCam(`rtsp://localhost:${port}/s`), await mkCam('rtsp://169.254.169.254/latest')];
  const exps = [
    await mkExp({ name: 'h', type: 'webhook', url: `http://127.0.0.1:${port}/hook` }),
    await mkExp({ name: 'v6', type: 'rest', url: `http://[::1]:${port}/hook` }),
    await mkExp({ name: 'm', type: 'mqtt', url: `mqtt://localhost:${port}`, config: { topic: 'anpr/events' } }),
  ];
  for (const id of cams) {
    for (const r of [
      await c.req(`/config/cameras/${id}/test?timeout=2`, { method: 'POST', token: c.adminToken }),
      await c.req(`/config/cameras/${id}/snapshot?timeout=2`, { token: c.adminToken }),
    ]) {
      t.equal(r.status, 403, `camera ${id}: ${r.url.includes('snapshot') ? 'snapshot' : 'test'}`);
      const b = await r.json();
      t.match(b, { error_code: 'FORBIDDEN', detail: /ANPR_PROBE_DENY_LOCAL/ });
      t.notMatch(JSON.stringify(b), /hunter2/);
    }
  }
  for (const id of exps) {
    const r = await c.req(`/config/exporters/${id}/test?timeout=2`, { method: 'POST', token: c.adminToken });
    t.equal(r.status, 403, `exporter ${id}`);
    t.match(await r.json(), { error_code: 'FORBIDDEN' });
  }
  t.equal(connections, 0, 'no probe reached the local listener');
});
