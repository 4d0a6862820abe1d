/**
 * Item 13 of the hardening issue: the request's Host header never decides a URL the service
 * hands out (events, the live stream, exports). Image URLs are built on the configured public
 * URL, else relative.
 */
import t, { type Test } from 'tap';
import { request } from 'node:http';
import WebSocket from 'ws';
import { startTestCloud, makeJpeg, type TestCloud } from './helpers.js';
import { startCloud } from '../../cloud/server.js';
import { silentLogger } from '../../shared/log.js';

const FORGED = 'evil.example:666';

/** A request with a forged Host header (fetch cannot set Host). */
function forged(c: TestCloud, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; text: string }> {
  const u = new URL(c.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers: { ...headers, host: FORGED, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function multipartEvent(id: string): { body: Buffer; type: string } {
  const b = 'bnd42';
  const jpeg = makeJpeg('32x24');
  const part = (name: string, head: string, data: Buffer | string) =>
    Buffer.concat([Buffer.from(`--${b}\r\ncontent-disposition: form-data; name="${name}"${head}\r\n\r\n`), Buffer.from(data), Buffer.from('\r\n')]);
  return {
    body: Buffer.concat([
      part('event', '', JSON.stringify({ event_id: id, plate_text: 'ABC123' })),
      part('frame', '; filename="f.jpg"\r\ncontent-type: image/jpeg', jpeg),
      part('crop', '; filename="c.jpg"\r\ncontent-type: image/jpeg', jpeg),
      Buffer.from(`--${b}--\r\n`),
    ]),
    type: `multipart/form-data; boundary=${b}`,
  };
}

async function everyUrl(t: Test, c: TestCloud, expectBase: string) {
  const ws = new WebSocket(`${c.url.replace('http', 'ws')}/events/stream?token=${c.adminToken}`);
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  const pushed = new Promise<any>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
  const m = multipartEvent('evt-host');
  const ing = await forged(c, 'POST', '/events/ingest', { 'x-api-key': c.apiKey, 'content-type': m.type }, m.body);
  t.equal(ing.status, 202, 'ingest with a forged Host');
  const live = (await pushed).data;
  ws.close();
  const listed = await forged(c, 'GET', '/events', { authorization: `Bearer ${c.adminToken}` });
  const one = await forged(c, 'GET', '/events/evt-host', { authorization: `Bearer ${c.adminToken}` });
  const csv = await forged(c, 'GET', '/events/export', { authorization: `Bearer ${c.adminToken}` });
  const fix = await forged(c, 'PATCH', '/events/evt-host', { authorization: `Bearer ${c.adminToken}`, 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ plate_text: 'ABC124' })));
  for (const [what, text] of [
    ['the live stream', JSON.stringify(live)],
    ['GET /events', listed.text],
    ['GET /events/:id', one.text],
    ['the CSV export', csv.text],
    ['PATCH /events/:id', fix.text],
  ]) {
    t.notMatch(text, /evil\.example/, `${what}: the forged Host appears nowhere`);
    t.match(text, `${expectBase}/events/evt-host/frame`, `${what}: the frame URL is built on '${expectBase || '(relative)'}'`);
  }
  t.equal(live.frame_url, `${expectBase}/events/evt-host/frame`);
  t.equal(live.crop_url, `${expectBase}/events/evt-host/crop`);
}

t.test('without a public URL: relative image URLs, whatever the Host says', async (t) => {
  const c = await startTestCloud(t);
  await everyUrl(t, c, '');
});

t.test('with a public URL (a path prefix and a trailing slash): URLs built on it alone', async (t) => {
  const c = await startTestCloud(t, { publicUrl: 'https://anpr.example.com/gate/' });
  await everyUrl(t, c, 'https://anpr.example.com/gate');
});

t.test('ANPR_PUBLIC_URL is read; a bad one stops the start with its reason', async (t) => {
  const c = await startTestCloud(t, { env: { ANPR_ADMIN_PASSWORD: 'test-admin-password', ANPR_PUBLIC_URL: 'http://10.0.0.5:8000' } });
  t.equal(c.ctx.publicUrl, 'http://10.0.0.5:8000');
  for (const bad of ['not a url', 'ftp://x/', 'https://u:p@x/', 'https://x/?q=1']) {
    await t.rejects(startCloud({ port: 0, dataDir: t.testdir(), logger: silentLogger, publicUrl: bad }), { code: 'CONFIG_INVALID' }, bad);
  }
});
