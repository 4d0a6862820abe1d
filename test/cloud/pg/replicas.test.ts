/**
 * Several cloud replicas on one PostgreSQL database (issue 12): an event ingested on one reaches
 * the `/events/stream` subscribers of every replica (through LISTEN/NOTIFY; one too large for a
 * notification by its id), each once and through the subscriber's filters; a session signed in
 * on one replica works on another, and sign-in guesses spread over replicas are throttled as on
 * one, as are an edge's events against its rate limit; kill -9 of a replica during ingest loses no acknowledged
 * event and the other keeps serving and streaming.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloud, type CloudOptions, type RunningCloud } from '../../../cloud/server.js';
import type { PgStreamBus } from '../../../cloud/stream/pg-stream-bus.js';
import { silentLogger } from '../../../shared/log.js';
import { startPostgresCluster } from '../../fixtures/postgres.js';
import { ADMIN, freePort, startCloudProcess } from '../../fixtures/processes.js';
import { openStream, type StreamClient } from '../../fixtures/stream-client.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startS3Server } from '../../fixtures/s3-server.js';
import { waitFor } from '../../fixtures/wait.js';
import { event } from '../helpers.js';

const pgc = await startPostgresCluster(t);
// The replicas' images in one S3-compatible store (a directory shared by running replicas is not safe).
const s3 = await startS3Server(['anpr-images']);
t.teardown(() => s3.close());
const imagesEnv = {
  ANPR_IMAGES_URL: `s3://anpr-images/replicas-${process.pid}`,
  ANPR_S3_ENDPOINT: s3.endpoint,
  AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
  AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
};

/** A replica in this process, with its own data dir (another machine), on `databaseUrl`. */
async function replica(t: Test, databaseUrl: string, rateLimits: CloudOptions['rateLimits'] = {}): Promise<RunningCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), 'anpr-replica-'));
  const cloud = await startCloud({
    port: 0,
    dataDir,
    databaseUrl,
    logger: silentLogger,
    env: { ANPR_ADMIN_USER: ADMIN.user, ANPR_ADMIN_PASSWORD: ADMIN.password, ...imagesEnv },
    rateLimits: { events: 1e6, config: 1e6, exporters: 1e6, auth: 1e6, ...rateLimits },
    // A lock long enough to outlast a slow sign-in on a loaded machine.
    loginThrottle: { baseMs: 600_000 },
  });
  t.teardown(async () => {
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  // Subscribed to the database's notifications before anything is announced.
  await (cloud.ctx.stream as PgStreamBus).listening();
  return cloud;
}

async function signIn(url: string): Promise<{ access_token: string; refresh_token: string }> {
  const r = await fetch(`${url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: ADMIN.user, password: ADMIN.password }) });
  if (r.status !== 200) throw new Error(`sign-in: ${r.status}`);
  return (await r.json()) as { access_token: string; refresh_token: string };
}

const ingest = (url: string, key: string, body: unknown) =>
  fetch(`${url}/events/ingest`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify(body) });

const ids = (s: StreamClient) => s.messages.filter((m) => m.type === 'event').map((m) => m.data.event_id as string);

t.test('two replicas: events reach the subscribers of both, each once; sessions work on either', async (t) => {
  const databaseUrl = await pgc.createDatabase();
  const a = await replica(t, databaseUrl);
  const b = await replica(t, databaseUrl);
  const key = (await a.ctx.apiKeys.create('edge-001', 'gate')).key;

  // Signed in on A, used on B: the signing secret is the database's, not a replica's file.
  const session = await signIn(a.url);
  t.equal((await fetch(`${b.url}/events`, { headers: { authorization: `Bearer ${session.access_token}` } })).status, 200, "A's access token works on B");
  const refreshed = await fetch(`${b.url}/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: session.refresh_token }) });
  t.equal(refreshed.status, 200, "A's refresh token is rotated on B");
  const { access_token } = (await refreshed.json()) as { access_token: string };
  t.equal((await fetch(`${a.url}/events`, { headers: { authorization: `Bearer ${access_token}` } })).status, 200, "and B's new token works on A");

  const onB = await openStream(b.url, `token=${access_token}`);
  const onBcam2 = await openStream(b.url, `token=${access_token}&camera_id=cam-002`);
  const onA = await openStream(a.url, `api_key=${key}`);
  t.teardown(() => [onB, onBcam2, onA].forEach((s) => s.ws.close()));

  t.equal((await ingest(a.url, key, event('r-1', { camera_id: 'cam-001' }))).status, 202);
  t.equal((await ingest(b.url, key, event('r-2', { camera_id: 'cam-002' }))).status, 202);
  // Larger than NOTIFY's 8000-byte payload: announced by id and read back by each replica.
  const big = event('r-big', { camera_id: 'cam-002', metadata: { edge_worker_id: 'edge-001', note: 'x'.repeat(12_000) } });
  t.equal((await ingest(a.url, key, big)).status, 202);
  t.equal((await ingest(a.url, key, event('r-1', { camera_id: 'cam-001' }))).status, 409, 'a duplicate is refused and not announced');
  t.equal((await ingest(b.url, key, event('r-3', { camera_id: 'cam-001' }))).status, 202);

  await onB.next(4);
  await onA.next(4);
  await onBcam2.next(2);
  t.same(new Set(ids(onB)), new Set(['r-1', 'r-2', 'r-big', 'r-3']), 'B: all four, from both replicas');
  t.same(new Set(ids(onA)), new Set(['r-1', 'r-2', 'r-big', 'r-3']), 'A: all four, its own once');
  t.same(ids(onBcam2).sort(), ['r-2', 'r-big'], "B's cam-002 subscriber: only cam-002's");
  const bigOnB = onB.messages.find((m) => m.data?.event_id === 'r-big');
  t.equal(bigOnB.data.metadata.note.length, 12_000, 'the large event arrives whole');
  t.equal(bigOnB.data.frame_url, null);
  // Nothing more arrives: the duplicate was not announced. A last event marks the end of the stream.
  t.equal((await ingest(a.url, key, event('r-end', { camera_id: 'cam-001' }))).status, 202);
  await onB.next(5);
  t.same(ids(onB).length, 5, 'exactly one message per stored event');

  // Guesses spread over the replicas count as on one: 5 free, the 6th locks, the 7th is refused.
  const guesses: number[] = [];
  for (let i = 0; i < 7; i++) {
    const r = await fetch(`${(i % 2 ? b : a).url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ghost', password: 'guess' }) });
    guesses.push(r.status);
  }
  t.same(guesses, [401, 401, 401, 401, 401, 401, 429], 'the sign-in throttle holds across replicas');
});

t.test('kill -9 of a replica during ingest: every acknowledged event is stored, the other keeps serving and streaming', async (t) => {
  const databaseUrl = await pgc.createDatabase();
  const dirA = mkdtempSync(join(tmpdir(), 'anpr-replica-a-'));
  t.teardown(() => rmSync(dirA, { recursive: true, force: true }));
  const b = await replica(t, databaseUrl);
  const key = (await b.ctx.apiKeys.create('edge-001', 'gate')).key;
  const port = await freePort();
  const a = await startCloudProcess(dirA, port, { ANPR_DATABASE_URL: databaseUrl, ...imagesEnv });
  t.teardown(() => a.kill('SIGKILL'));
  const aUrl = `http://127.0.0.1:${port}`;

  const session = await signIn(b.url);
  const onB = await openStream(b.url, `token=${session.access_token}`);
  t.teardown(() => onB.ws.close());

  // Four clients ingest on A until it dies; every 202 is an acknowledged event.
  const acked: string[] = [];
  let n = 0;
  let stop = false;
  const client = async (c: number) => {
    while (!stop) {
      const id = `k-${c}-${n++}`;
      try {
        const r = await ingest(aUrl, key, event(id));
        if (r.status === 202) acked.push(id);
      } catch {
        return; // A is gone: the connection was refused or cut.
      }
    }
  };
  const clients = Promise.all([0, 1, 2, 3].map(client));
  await waitFor(() => acked.length >= 40, '40 events acknowledged by A', 60_000, 5);
  await a.kill('SIGKILL');
  stop = true;
  await clients;
  t.ok(acked.length >= 40, `${acked.length} events acknowledged by A before it was killed`);

  const token = { authorization: `Bearer ${session.access_token}` };
  const missing: string[] = [];
  for (const id of acked) if ((await fetch(`${b.url}/events/${id}`, { headers: token })).status !== 200) missing.push(id);
  t.same(missing, [], 'every event A acknowledged is served by B');
  t.equal((await fetch(`${b.url}/healthz`)).status, 200, 'B is healthy');
  t.equal((await ingest(b.url, key, event('after-kill'))).status, 202, 'B ingests');
  await waitFor(() => ids(onB).includes('after-kill'), "the event on B's stream");
  t.pass("B's subscriber keeps streaming");
  t.equal(new Set(ids(onB)).size, ids(onB).length, 'no event twice');
});

t.test("rate limits hold across replicas: an edge's events on A and on B count together", async (t) => {
  const databaseUrl = await pgc.createDatabase();
  // Hour-long windows: a minute boundary inside the test would reset the counts.
  const limits = { events: 10, windowMs: 3_600_000 };
  const a = await replica(t, databaseUrl, limits);
  const b = await replica(t, databaseUrl, limits);
  const key = (await a.ctx.apiKeys.create('edge-001', 'gate')).key;
  for (let i = 0; i < 6; i++) t.equal((await ingest(a.url, key, event(`rl-a-${i}`))).status, 202, `event ${i + 1} on A`);
  // The replicas exchange counts every 250 ms; here at once, A's first.
  await a.ctx.limiter.sync();
  await b.ctx.limiter.sync();
  const onB: Array<[number, string | null]> = [];
  for (let i = 0; i < 5; i++) {
    const r = await ingest(b.url, key, event(`rl-b-${i}`));
    onB.push([r.status, r.headers.get('x-ratelimit-remaining')]);
  }
  t.same(onB, [[202, '3'], [202, '2'], [202, '1'], [202, '0'], [429, '0']], 'B allows the 4 the edge has left of its 10, and counts A\'s');
  await b.ctx.limiter.sync();
  await a.ctx.limiter.sync();
  t.equal((await ingest(a.url, key, event('rl-a-late'))).status, 429, "and A now counts B's");
});
