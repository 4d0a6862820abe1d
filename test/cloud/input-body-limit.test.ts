/**
 * Item 2 of the hardening issue: no JSON route buffers an unbounded body. Every route has a
 * limit, checked before authentication, on the declared length and on the streamed bytes of a
 * chunked body; the answer is 413 with the contract's error body.
 */
import t from 'tap';
import { request } from 'node:http';
import { startTestCloud, makeJpeg, type TestCloud } from './helpers.js';
import { startCloud } from '../../cloud/server.js';
import { silentLogger } from '../../shared/log.js';

interface Sent {
  status: number;
  body: any;
  /** Body bytes written before the answer came (or all of them). */
  sent: number;
}

/**
 * Sends `total` body bytes of `chunk` repeated, declared (Content-Length) or chunked, and stops
 * writing as soon as the answer arrives: a server that reads everything first answers last.
 */
function send(c: TestCloud, method: string, path: string, opts: { total: number; chunked: boolean; contentType?: string; head?: Buffer; headers?: Record<string, string> }): Promise<Sent> {
  const url = new URL(path, c.url);
  const head = opts.head ?? Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json', ...opts.headers };
    // Explicit: Node's client frames a GET or DELETE body only when told.
    if (opts.chunked) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(opts.total);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers }, (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString();
        resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null, sent });
        req.destroy();
      });
    });
    // The server may close while we still write: that is the point, not a failure.
    req.on('error', (e) => (answered ? undefined : reject(e)));
    const filler = Buffer.alloc(16 * 1024, 0x61);
    const pump = () => {
      while (!answered && sent < opts.total) {
        const piece = sent < head.length ? head.subarray(sent) : filler.subarray(0, Math.min(filler.length, opts.total - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

const MiB = 1024 * 1024;

t.test('JSON routes, unauthenticated ones first: a body over 64 KiB is a 413 before it is read', async (t) => {
  const c = await startTestCloud(t);
  const head = Buffer.from('{"username":"admin","password":"x","pad":"');
  for (const [method, path, auth] of [
    ['POST', '/auth/token', {}],
    ['POST', '/auth/login', {}],
    ['POST', '/auth/refresh', {}],
    ['POST', '/events/ingest', { 'x-api-key': c.apiKey }],
    ['POST', '/config/cameras', { authorization: `Bearer ${c.adminToken}` }],
    ['PUT', '/config/sensors/sensor-001', { authorization: `Bearer ${c.adminToken}` }],
    ['POST', '/users', { authorization: `Bearer ${c.adminToken}` }],
    ['PATCH', '/events/evt-1', { authorization: `Bearer ${c.adminToken}` }],
    ['DELETE', '/config/cameras/cam-001', { authorization: `Bearer ${c.adminToken}` }],
  ] as Array<[string, string, Record<string, string>]>) {
    for (const chunked of [false, true]) {
      const r = await send(c, method, path, { total: 64 * MiB, chunked, head, headers: auth });
      const how = chunked ? 'chunked' : 'declared';
      t.equal(r.status, 413, `${method} ${path}, ${how}: 413`);
      t.equal(r.body?.error_code, 'PAYLOAD_TOO_LARGE', `${method} ${path}, ${how}: the contract's error body`);
      t.type(r.body?.request_id, 'string');
      // What the client had written when the answer came: socket buffers, not the body.
      t.ok(r.sent < 32 * MiB, `${method} ${path}, ${how}: answered after ${r.sent} of ${64 * MiB} bytes`);
    }
  }
  for (const chunked of [false, true]) {
    const get = await send(c, 'GET', '/healthz', { total: 64 * MiB, chunked });
    t.equal(get.status, 413, `GET with a ${chunked ? 'chunked' : 'declared'} 64 MiB body`);
  }
  // Just under the limit is read and judged on its content.
  const small = await send(c, 'POST', '/auth/token', { total: 60 * 1024, chunked: true, head });
  t.equal(small.status, 400, 'a chunked body under the limit reaches validation');
  const h = await c.req('/healthz');
  t.equal(h.status, 200, 'the service still answers');
});

t.test('a declared 400 MB body is refused from its header: nothing is uploaded', async (t) => {
  const c = await startTestCloud(t);
  // Only the headers and a few bytes are ever sent: the answer cannot wait for the body.
  const r = await send(c, 'POST', '/auth/token', { total: 400 * 1000 * 1000, chunked: false });
  t.equal(r.status, 413);
  t.ok(r.sent < 64 * MiB, `answered after ${r.sent} bytes`);
});

t.test('the JSON limit is a setting; multipart ingest and image uploads keep their larger limits', async (t) => {
  const c = await startTestCloud(t, { maxJsonBytes: 2048, maxImageBytes: 200_000 });
  const big = { username: 'admin', password: 'x'.repeat(3000) };
  t.equal((await c.req('/auth/token', { method: 'POST', json: big })).status, 413, '3 KB JSON over a 2 KiB limit');

  // A multipart event with a 150 KB frame: far over the JSON limit, inside the ingest limit.
  const frame = Buffer.concat([makeJpeg('64x48'), Buffer.alloc(150_000)]);
  const fd = new FormData();
  fd.set('event', JSON.stringify({ event_id: 'evt-big', plate_text: 'ABC123' }));
  fd.set('frame', new Blob([new Uint8Array(frame)], { type: 'image/jpeg' }), 'f.jpg');
  const ok = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, body: fd });
  t.equal(ok.status, 202, 'multipart ingest of 150 KB accepted');

  // Over 2 × 200 KB + 256 KiB, chunked, without a Content-Length: counted while it streams.
  const boundary = 'xx';
  const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="frame"; filename="f.jpg"\r\ncontent-type: image/jpeg\r\n\r\n`);
  const r = await send(c, 'POST', '/events/ingest', { total: 64 * MiB, chunked: true, head, contentType: `multipart/form-data; boundary=${boundary}`, headers: { 'x-api-key': c.apiKey } });
  t.equal(r.status, 413, 'chunked multipart over the ingest limit');
  t.ok(r.sent < 32 * MiB, `answered after ${r.sent} bytes`);

  // /recognize: the route's own 10 MiB image limit answers; the app-wide one is only above it.
  const rec = await send(c, 'POST', '/recognize', { total: 11 * MiB, chunked: false, contentType: 'image/jpeg', headers: { authorization: `Bearer ${c.adminToken}` } });
  t.equal(rec.status, 413, 'an 11 MiB image is refused');
  t.equal((await c.req('/events/evt-big', { token: c.adminToken })).status, 200);
});

t.test('a bad limit setting stops the start with its reason', async (t) => {
  await t.rejects(
    startCloud({ port: 0, dataDir: t.testdir(), logger: silentLogger, env: { ANPR_MAX_JSON_BYTES: 'lots' } }),
    { code: 'CONFIG_INVALID', message: /ANPR_MAX_JSON_BYTES/ },
  );
});
