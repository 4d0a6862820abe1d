import t from 'tap';
import { Outbox } from '../../../edge/outbox/outbox.js';
import { DeliveryWorker } from '../../../edge/exporters/dispatcher.js';
import { CloudRestExporter, classifyHttp } from '../../../edge/exporters/rest.js';
import { WebhookExporter } from '../../../edge/exporters/webhook.js';
import { parseRetryAfter } from '../../../edge/exporters/types.js';
import { Metrics } from '../../../edge/daemon/metrics.js';
import { IngestServer } from '../../fixtures/ingest-server.js';
import { tempDir } from '../../fixtures/media.js';
import { sampleEvent, fakeJpeg } from '../../fixtures/events.js';
import { waitFor } from '../../fixtures/wait.js';

const fast = { initialMs: 50, maxMs: 300 };

async function setup(t: { teardown(fn: () => unknown): void }, exporterNames = ['cloud']) {
  const server = await new IngestServer().start();
  t.teardown(() => server.stop());
  const outbox = new Outbox({ dataDir: tempDir(t), exporters: exporterNames });
  const exporter = new CloudRestExporter({ url: server.url, apiKey: 'k-123' });
  await exporter.start();
  const metrics = new Metrics();
  const worker = new DeliveryWorker(outbox, exporter, { backoff: fast, pollMs: 100, metrics });
  t.teardown(async () => {
    await worker.stop();
    await exporter.stop();
    outbox.close();
  });
  return { server, outbox, exporter, worker, metrics };
}

t.test('delivers multipart events with images and X-API-Key, in order per camera', async (t) => {
  const { server, outbox, worker } = await setup(t);
  for (let i = 0; i < 30; i++) outbox.add(sampleEvent(i, `cam-${i % 3}`), { frame: fakeJpeg(i), crop: fakeJpeg(i + 1, 100) });
  worker.start();
  await waitFor(() => server.accepted.length === 30, '30 deliveries');
  const first = server.accepted[0];
  t.equal(first.apiKey, 'k-123');
  t.same(first.frame, fakeJpeg(Number((first.body.metadata as { n: number }).n)), 'frame JPEG intact');
  t.ok(first.crop && first.crop.length === 100);
  for (const cam of ['cam-0', 'cam-1', 'cam-2']) {
    const ns = server.accepted.filter((r) => r.cameraId === cam).map((r) => (r.body.metadata as { n: number }).n);
    t.same(ns, [...ns].sort((a, b) => a - b), `${cam} in order`);
  }
  // The server counts a request when it answers; the edge marks it delivered a moment later.
  await waitFor(() => outbox.stats().byExporter.cloud.delivered === 30, 'all 30 marked delivered');
  t.equal(outbox.stats().byExporter.cloud.delivered, 30);
});

t.test('409 counts as delivered; 400 is dead-lettered and never blocks the camera', async (t) => {
  const { server, outbox, worker } = await setup(t);
  server.seen.add(sampleEvent(0).event_id); // the cloud already has event 0
  server.override = (r) => (r.eventId === sampleEvent(1).event_id ? { status: 400, body: '{"detail":"Invalid event data"}' } : null);
  for (let i = 0; i < 4; i++) outbox.add(sampleEvent(i));
  worker.start();
  await waitFor(() => server.accepted.length === 2, 'events 2 and 3');
  await waitFor(() => outbox.stats().byExporter.cloud.pending === 0, 'queue drained');
  t.same(server.accepted.map((r) => r.eventId), [sampleEvent(2).event_id, sampleEvent(3).event_id]);
  const st = outbox.stats().byExporter.cloud;
  t.equal(st.delivered, 3, '202 x2 + 409');
  t.equal(st.dead, 1);
  t.match(outbox.deadLetters()[0].lastError, /HTTP 400/);
});

t.test('429 and 5xx retry, honouring Retry-After', async (t) => {
  const { server, outbox, worker } = await setup(t);
  let answeredAt = 0;
  server.override = (_r, n) => {
    if (n === 1) { answeredAt = Date.now(); return { status: 429, headers: { 'retry-after': '1' } }; }
    if (n === 2) return { status: 503 };
    return null;
  };
  outbox.add(sampleEvent(0));
  worker.start();
  // The server counts a request when it answers; the edge records the outcome a moment later.
  const row = () => outbox.db.prepare('SELECT attempts, next_attempt_at FROM deliveries').get() as { attempts: number; next_attempt_at: number };
  await waitFor(() => row().attempts >= 1, 'first attempt recorded');
  const next = row().next_attempt_at;
  t.ok(next - answeredAt >= 950, `next attempt scheduled ${next - answeredAt} ms after the 429 (Retry-After: 1)`);
  await waitFor(() => server.accepted.length === 1, 'delivered after 429 and 503');
  await waitFor(() => outbox.stats().byExporter.cloud.delivered === 1, 'marked delivered');
  t.equal(server.requests, 3);
});

t.test('cloud down, then back: everything buffered is delivered, in order per camera', async (t) => {
  const { server, outbox, worker, metrics } = await setup(t);
  const port = server.port;
  await server.stop();
  worker.start();
  for (let i = 0; i < 40; i++) {
    outbox.add(sampleEvent(i, `cam-${i % 2}`));
    worker.wake();
  }
  await waitFor(() => (metrics.get('anpr_delivery_failures_total', { exporter: 'cloud', kind: 'retry' }) ?? 0) >= 2, 'failed attempts while down');
  t.equal(outbox.stats().byExporter.cloud.pending, 40, 'all buffered');
  await server.start(port);
  await waitFor(() => server.accepted.length === 40, 'all 40 after the outage');
  for (const cam of ['cam-0', 'cam-1']) {
    const ns = server.accepted.filter((r) => r.cameraId === cam).map((r) => (r.body.metadata as { n: number }).n);
    t.same(ns, [...ns].sort((a, b) => a - b), `${cam} in order`);
  }
  t.equal(new Set(server.accepted.map((r) => r.eventId)).size, 40, 'each exactly once');
});

t.test('webhook: headers, bearer and basic auth, same retry machinery', async (t) => {
  const server = await new IngestServer().start();
  t.teardown(() => server.stop());
  const outbox = new Outbox({ dataDir: tempDir(t), exporters: ['hook-bearer', 'hook-basic'] });
  const a = new WebhookExporter({ name: 'hook-bearer', url: `${server.url}/hooks/anpr?x=1`, headers: { 'x-site': 'north' }, auth: { type: 'bearer', token: 'tok' } });
  const b = new WebhookExporter({ name: 'hook-basic', url: `${server.url}/hooks/anpr`, auth: { type: 'basic', username: 'u', password: 'p' } });
  await a.start();
  await b.start();
  const wa = new DeliveryWorker(outbox, a, { backoff: fast, pollMs: 100 });
  const wb = new DeliveryWorker(outbox, b, { backoff: fast, pollMs: 100 });
  t.teardown(async () => { await wa.stop(); await wb.stop(); await a.stop(); await b.stop(); outbox.close(); });
  server.override = (_r, n) => (n === 1 ? { status: 500 } : null);
  outbox.add(sampleEvent(7));
  wa.start();
  wb.start();
  await waitFor(() => outbox.stats().byExporter['hook-bearer'].delivered === 1 && outbox.stats().byExporter['hook-basic'].delivered === 1, 'both hooks');
  const auths = new Set(server.log.map((r) => r.authorization));
  t.ok(auths.has('Bearer tok'), 'bearer sent');
  t.ok(auths.has(`Basic ${Buffer.from('u:p').toString('base64')}`), 'basic sent');
  const bearer = server.log.find((r) => r.authorization === 'Bearer tok')!;
  t.equal(bearer.headers['x-site'], 'north', 'custom header sent');
  t.equal(bearer.path, '/hooks/anpr?x=1', 'URL path and query kept');
  t.equal(bearer.body.plate_text, sampleEvent(7).plate_text, 'the event JSON is the body');
  t.equal(server.requests, 3, 'the 500 was retried; the second hook got 409 (same event id), which counts as delivered');
});

t.test('HTTP classification and Retry-After parsing', async (t) => {
  t.equal(classifyHttp(202, '', undefined).status, 'delivered');
  t.equal(classifyHttp(409, '', undefined).status, 'delivered');
  t.equal(classifyHttp(400, '', undefined).status, 'dead');
  t.equal(classifyHttp(401, '', undefined).status, 'dead');
  t.same(classifyHttp(429, '', '3'), { status: 'retry', error: 'HTTP 429: ', retryAfterMs: 3000 });
  t.equal(classifyHttp(502, '', undefined).status, 'retry');
  t.equal(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())! > 3000, true);
  t.equal(parseRetryAfter('soon'), undefined);
});

for (const kind of ['cloud', 'webhook'] as const) {
  t.test(`${kind}: an attempt that times out is aborted, its request closed before the retry is sent`, async (t) => {
    const { createServer } = await import('node:http');
    // A peer that takes requests and never answers them.
    const requests: Array<{ closed: boolean }> = [];
    const server = createServer((req) => {
      const r = { closed: false };
      requests.push(r);
      req.socket.once('close', () => (r.closed = true));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const outbox = new Outbox({ dataDir: tempDir(t), exporters: [kind] });
    // The exporter's own HTTP timeout is far longer than the dispatcher's: only the abort can close the request.
    const ex = kind === 'cloud' ? new CloudRestExporter({ url, apiKey: 'k-123', name: kind, timeoutMs: 120_000 }) : new WebhookExporter({ name: kind, url: `${url}/hook`, timeoutMs: 120_000 });
    await ex.start();
    const w = new DeliveryWorker(outbox, ex, { backoff: { initialMs: 10, maxMs: 20 }, pollMs: 50, attemptTimeoutMs: 300 });
    t.teardown(async () => {
      await w.stop();
      await ex.stop();
      outbox.close();
    });
    outbox.add(sampleEvent(1));
    w.start();
    // Without the abort each request would stay open for the exporter's 120 s timeout.
    await waitFor(() => requests.length >= 3 && requests.slice(0, -1).every((r) => r.closed), 'two retries, the abandoned attempts closed');
    t.ok(requests.filter((r) => !r.closed).length <= 1, 'at most the attempt in flight is open');
    t.equal(outbox.stats().byExporter[kind].pending, 1, 'still pending, retried, not lost');
    t.match(w.lastError, /no acknowledgement within 300 ms/);
  });
}
