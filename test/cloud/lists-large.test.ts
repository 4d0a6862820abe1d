/**
 * Issue 10, large lists: 100,000 entries import (JSON and CSV) and page back whole and in order;
 * 1,000,000 entries are a 413 naming MAX_LIST_ENTRIES, answered before the body is all read;
 * entries pages and the export carry the version as ETag (If-None-Match → 304); an export that
 * the list changes under fails rather than mixing two versions.
 */
import t from 'tap';
import { request } from 'node:http';
import { MAX_LIST_ENTRIES } from '../../shared/schemas/lists.js';
import { startTestCloud, type TestCloud } from './helpers.js';

const N = 100_000;
const plate = (i: number) => `P${String(i).padStart(7, '0')}`;
const label = (i: number) => `Tenant ${i} `.padEnd(128, 'x');

/** Sends `body` in pieces and stops writing as soon as the answer comes: how much was written then. */
function sendUntilAnswered(c: TestCloud, path: string, contentType: string, body: Buffer, chunked = false): Promise<{ status: number; body: any; sent: number }> {
  const url = new URL(path, c.url);
  const length: Record<string, string> = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) };
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': contentType, ...length, authorization: `Bearer ${c.adminToken}` } },
      (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(parts).toString()), sent });
          req.destroy();
        });
      },
    );
    // The server closes while we still write: that is the point.
    req.on('error', (e) => (answered ? undefined : reject(e)));
    const pump = () => {
      while (!answered && sent < body.length) {
        const piece = body.subarray(sent, sent + 64 * 1024);
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

async function readAllPages(c: TestCloud, id: string, auth: { token?: string; key?: string }) {
  const plates: string[] = [];
  let etag: string | null = null;
  let pages = 0;
  for (let skip = 0; ; skip += 10_000) {
    const r = await c.req(`/config/lists/${id}/entries?skip=${skip}&limit=10000`, auth);
    if (r.status !== 200) throw new Error(`page at ${skip}: ${r.status}`);
    etag ??= r.headers.get('etag');
    if (r.headers.get('etag') !== etag) throw new Error('the version changed while paging');
    const page = await r.json();
    pages++;
    for (const e of page.items) plates.push(e.plate);
    if (page.items.length < 10_000) return { plates, etag, pages, total: page.total as number, lastPage: page };
  }
}

t.test(`${N} entries: imported as JSON and as CSV in one request each, paged back whole and in order`, async (t) => {
  const c = await startTestCloud(t);
  // Written in reverse: the pages must come back in plate order regardless.
  const entries = Array.from({ length: N }, (_, k) => {
    const i = N - 1 - k;
    return { plate: plate(i), label: label(i), schedule: i % 10 === 0 ? [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '19:00' }] : [] };
  });
  let t0 = performance.now();
  const created = await c.req('/config/lists', { method: 'POST', token: c.adminToken, json: { id: 'big', name: 'Big', type: 'allow', entries } });
  const jsonMs = performance.now() - t0;
  t.equal(created.status, 201, created.status === 201 ? 'created' : await created.clone().text());
  t.equal((await created.json()).entries_count, N);

  t0 = performance.now();
  const all = await readAllPages(c, 'big', { token: c.adminToken });
  const pageMs = performance.now() - t0;
  t.equal(all.total, N);
  t.equal(all.plates.length, N, 'every entry once');
  t.equal(all.pages, 11, '10 full pages of 10,000 and an empty one');
  t.same(all.plates, Array.from({ length: N }, (_, i) => plate(i)), 'in plate order');
  const mid = await (await c.req('/config/lists/big/entries?skip=50000&limit=2', { key: c.apiKey })).json();
  t.same(mid.items, [
    { plate: plate(50000), label: label(50000), valid_from: null, valid_until: null, schedule: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '19:00' }], rfid: null },
    { plate: plate(50001), label: label(50001), valid_from: null, valid_until: null, schedule: [], rfid: null },
  ], 'the content, read with the edge key');
  const prefix = await (await c.req('/config/lists/big/entries?q=p-0012&limit=5', { token: c.adminToken })).json();
  t.equal(prefix.total, 1000, 'q: a plate prefix, normalised (P0012000-P0012999)');
  t.same(prefix.items.map((e: any) => e.plate), [12000, 12001, 12002, 12003, 12004].map(plate));

  // The same entries as CSV, into another list: the export of the first is the import of the second.
  const exported = await (await c.req('/config/lists/big/entries.csv', { token: c.adminToken })).text();
  t.equal(exported.split('\r\n').length, N + 2, 'header, N lines, the final CRLF');
  await c.req('/config/lists', { method: 'POST', token: c.adminToken, json: { id: 'copy', name: 'Copy', type: 'allow' } });
  t0 = performance.now();
  const imported = await c.req('/config/lists/copy/entries', { method: 'PUT', token: c.adminToken, body: exported, headers: { 'content-type': 'text/csv' } });
  const csvMs = performance.now() - t0;
  t.equal(imported.status, 200);
  t.match(await imported.json(), { added: N, list: { entries_count: N } });
  const copy = await readAllPages(c, 'copy', { token: c.adminToken });
  t.same(copy.plates, all.plates, 'the CSV copy holds the same plates');
  t.same(
    (await (await c.req('/config/lists/copy/entries?skip=50000&limit=2', { token: c.adminToken })).json()).items,
    mid.items,
    'and the same entries',
  );
  t.comment(`${N} entries (~${Math.round(exported.length / 1e6)} MB CSV): JSON create ${Math.round(jsonMs)} ms, 11 pages ${Math.round(pageMs)} ms, CSV import ${Math.round(csvMs)} ms`);
});

t.test(`1,000,000 entries: a 413 naming the limit (${MAX_LIST_ENTRIES}), before the body is read to its end; nothing stored`, async (t) => {
  const c = await startTestCloud(t);
  await c.req('/config/lists', { method: 'POST', token: c.adminToken, json: { id: 'l', name: 'L', type: 'allow', entries: [{ plate: 'KEEP1' }] } });
  const million = Array.from({ length: 1_000_000 }, (_, i) => plate(i));
  const json = Buffer.from(JSON.stringify({ entries: million.map((p) => ({ plate: p })) }));
  const csv = Buffer.from(`plate\n${million.join('\n')}\n`);
  const cases: Array<[string, string, string, Buffer]> = [
    ['create, JSON', '/config/lists', 'application/json', Buffer.from(JSON.stringify({ name: 'huge', type: 'deny', entries: million.map((p) => ({ plate: p })) }))],
    ['add, JSON', '/config/lists/l/entries', 'application/json', json],
    ['add, CSV', '/config/lists/l/entries', 'text/csv', csv],
  ];
  for (const [what, path, type, body] of cases) {
    const r = await sendUntilAnswered(c, path, type, body);
    t.equal(r.status, 413, `${what}: 413`);
    t.equal(r.body.error_code, 'PAYLOAD_TOO_LARGE');
    t.match(r.body.detail, new RegExp(`at most ${MAX_LIST_ENTRIES} entries \\(MAX_LIST_ENTRIES\\)`), `${what}: names the limit`);
    t.equal(r.body.max_entries, MAX_LIST_ENTRIES);
    t.ok(r.sent < body.length, `${what}: answered after ${(r.sent / 1e6).toFixed(1)} of ${(body.length / 1e6).toFixed(1)} MB sent`);
  }
  // Chunked (no declared length): the app-wide limit counts it in, then the same count refuses it.
  const chunked = await sendUntilAnswered(c, '/config/lists/l/entries', 'text/csv', csv, true);
  t.equal(chunked.status, 413, 'chunked CSV: 413');
  t.equal(chunked.body.max_entries, MAX_LIST_ENTRIES, 'naming the entries limit');
  // A declared length past the list body limit (64 MiB) is refused from the header alone.
  const declared = await new Promise<number>((resolve, reject) => {
    const url = new URL('/config/lists/l/entries', c.url);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PUT', headers: { 'content-type': 'text/csv', 'content-length': String(65 * 1024 * 1024), authorization: `Bearer ${c.adminToken}` } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
      req.destroy();
    });
    req.on('error', reject);
    req.write('plate\n');
  });
  t.equal(declared, 413, 'over 64 MiB declared: 413 before a byte of it is read');
  // Within one body's limit, but over it with what the list holds already: refused in the store's transaction.
  await c.ctx.lists.replace('l', Array.from({ length: MAX_LIST_ENTRIES - 1 }, (_, i) => ({ plate: plate(i), label: null, valid_from: null, valid_until: null, schedule: [], rfid: null })));
  const over = await c.req('/config/lists/l/entries', { method: 'POST', token: c.adminToken, json: { entries: [{ plate: 'NEW1' }, { plate: 'NEW2' }] } });
  t.equal(over.status, 413, 'the list would hold one more than the limit');
  t.match((await over.json()).detail, `would make it ${MAX_LIST_ENTRIES + 1}`);
  const lists = await (await c.req('/config/lists', { token: c.adminToken })).json();
  t.same(lists.items.map((l: any) => [l.id, l.entries_count]), [['l', MAX_LIST_ENTRIES - 1]], 'nothing of the refused bodies was stored');
  t.equal((await c.req('/config/lists/l/entries', { method: 'POST', token: c.adminToken, json: { entries: [{ plate: 'NEW1' }] } })).status, 200, 'up to the limit is fine');
});

t.test('ETag = version on entries pages and the export; If-None-Match answers 304 until the list changes', async (t) => {
  const c = await startTestCloud(t);
  await c.req('/config/lists', { method: 'POST', token: c.adminToken, json: { id: 'l', name: 'L', type: 'allow', entries: [{ plate: 'A1' }] } });
  const version = (await (await c.req('/config/lists/l', { token: c.adminToken })).json()).version;
  for (const path of ['/config/lists/l/entries', '/config/lists/l/entries?skip=0&limit=1', '/config/lists/l/entries.csv']) {
    const first = await c.req(path, { key: c.apiKey });
    t.equal(first.headers.get('etag'), `"${version}"`, `${path}: ETag is the version`);
    await first.arrayBuffer();
    for (const inm of [`"${version}"`, `W/"${version}"`, `"x", "${version}"`, '*']) {
      const again = await c.req(path, { key: c.apiKey, headers: { 'if-none-match': inm } });
      t.equal(again.status, 304, `${path}, If-None-Match ${inm}: 304`);
      t.equal(await again.text(), '', 'no body');
    }
    t.equal((await c.req(path, { key: c.apiKey, headers: { 'if-none-match': '"0"' } })).status, 200, 'another tag: 200');
  }
  const page = await (await c.req('/config/lists/l/entries', { key: c.apiKey })).json();
  t.equal(page.version, version, 'the page says its version too');
  await c.req('/config/lists/l/entries', { method: 'POST', token: c.adminToken, json: { entries: [{ plate: 'B2' }] } });
  const changed = await c.req('/config/lists/l/entries', { key: c.apiKey, headers: { 'if-none-match': `"${version}"` } });
  t.equal(changed.status, 200, 'after a change the old tag no longer matches');
  t.not(changed.headers.get('etag'), `"${version}"`);
  t.equal((await changed.json()).items.length, 2);
});

t.test('an export the list changes under breaks off instead of mixing two versions', async (t) => {
  const c = await startTestCloud(t);
  const entries = Array.from({ length: N }, (_, i) => ({ plate: plate(i), label: label(i) }));
  t.equal((await c.req('/config/lists', { method: 'POST', token: c.adminToken, json: { id: 'l', name: 'L', type: 'allow', entries } })).status, 201);
  // ~14 MB: far more than the socket buffers hold, so the server waits on this reader.
  const r = await c.req('/config/lists/l/entries.csv', { token: c.adminToken });
  const reader = r.body!.getReader();
  const first = await reader.read();
  t.ok(first.value && first.value.length > 0, 'the download started');
  const add = await c.req('/config/lists/l/entries', { method: 'POST', token: c.adminToken, json: { entries: [{ plate: 'CHANGED1' }] } });
  t.equal(add.status, 200);
  let bytes = first.value!.length;
  await t.rejects(
    (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        bytes += value.length;
      }
    })(),
    'the transfer fails',
  );
  t.ok(bytes < 14_000_000, `it broke off after ${(bytes / 1e6).toFixed(1)} MB`);
  // And a download after the change is whole.
  const whole = await (await c.req('/config/lists/l/entries.csv', { token: c.adminToken })).text();
  t.equal(whole.split('\r\n').length, N + 3, 'the new version, complete');
});
