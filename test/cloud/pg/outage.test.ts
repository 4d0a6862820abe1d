/**
 * PostgreSQL going away under a running cloud (issue 12, bad input): ingest answers 202 or
 * 503 with Retry-After, never anything else; `/healthz` says 503 while the database is down;
 * once it is back the cloud serves again without a restart, every acknowledged event is
 * stored, nothing is half-stored (the statistics count exactly the stored events), and the
 * live stream resumes (the notification connection is opened again).
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloud } from '../../../cloud/server.js';
import type { PgStreamBus } from '../../../cloud/stream/pg-stream-bus.js';
import { silentLogger } from '../../../shared/log.js';
import { startPostgresCluster } from '../../fixtures/postgres.js';
import { openStream } from '../../fixtures/stream-client.js';
import { waitFor } from '../../fixtures/wait.js';
import { ADMIN_PASSWORD, event } from '../helpers.js';

t.test('the database stops during ingest and comes back', async (t) => {
  const pgc = await startPostgresCluster(t);
  const dataDir = mkdtempSync(join(tmpdir(), 'anpr-outage-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const cloud = await startCloud({
    port: 0,
    dataDir,
    databaseUrl: await pgc.createDatabase(),
    logger: silentLogger,
    env: { ANPR_ADMIN_PASSWORD: ADMIN_PASSWORD },
    rateLimits: { events: 1e6, config: 1e6, exporters: 1e6, auth: 1e6 },
  });
  t.teardown(() => cloud.close());
  const key = (await cloud.ctx.apiKeys.create('edge-001', 'gate')).key;
  const login = await fetch(`${cloud.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  const token = ((await login.json()) as { access_token: string }).access_token;
  const ingest = (id: string) => fetch(`${cloud.url}/events/ingest`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify(event(id)) });

  const acked = new Set<string>();
  const answers = new Map<number, number>();
  const unexpected: string[] = [];
  let n = 0;
  let stop = false;
  const client = async (c: number) => {
    while (!stop) {
      const id = `o-${c}-${n++}`;
      const r = await ingest(id);
      answers.set(r.status, (answers.get(r.status) ?? 0) + 1);
      if (r.status === 202) acked.add(id);
      else if (r.status !== 503 || !Number(r.headers.get('retry-after'))) unexpected.push(`${id}: ${r.status} ${await r.text()}`);
    }
  };
  const clients = Promise.all([0, 1, 2, 3].map(client));
  await waitFor(() => acked.size >= 20, '20 events stored before the outage', 60_000, 5);
  await pgc.stop();
  await waitFor(() => (answers.get(503) ?? 0) >= 4, 'ingest refused with 503 while the database is down', 60_000, 5);
  t.equal((await fetch(`${cloud.url}/healthz`)).status, 503, '/healthz says 503 while the database is down');
  await pgc.start();
  await waitFor(async () => (await fetch(`${cloud.url}/healthz`)).status === 200, '/healthz 200 once it is back', 60_000);
  const after = acked.size;
  await waitFor(() => acked.size >= after + 20, 'ingest stored again', 60_000, 5);
  stop = true;
  await clients;
  t.same(unexpected, [], `only 202 and 503 with Retry-After (${JSON.stringify(Object.fromEntries(answers))})`);

  const auth = { authorization: `Bearer ${token}` };
  const missing: string[] = [];
  for (const id of acked) if ((await fetch(`${cloud.url}/events/${id}`, { headers: auth })).status !== 200) missing.push(id);
  t.same(missing, [], `all ${acked.size} acknowledged events stored`);
  const listed = (await (await fetch(`${cloud.url}/events?limit=1`, { headers: auth })).json()) as { total: number };
  const stats = (await (await fetch(`${cloud.url}/events/stats`, { headers: auth })).json()) as { total_events: number };
  t.equal(stats.total_events, listed.total, 'the statistics count exactly the stored events: nothing half-stored');

  // The notification connection was lost with the server: it is opened again, and the stream resumes.
  await (cloud.ctx.stream as PgStreamBus).listening();
  const sub = await openStream(cloud.url, `token=${token}`);
  t.teardown(() => sub.ws.close());
  t.equal((await ingest('after-outage')).status, 202);
  await waitFor(() => sub.messages.some((m) => m.data?.event_id === 'after-outage'), 'the event on the stream');
  t.pass('the live stream works after the outage');
});
