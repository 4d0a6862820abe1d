/**
 * Item 15: the cloud's database has two writers in one process — the events writer thread
 * (ingest) and the service's own connection (corrections, config, users, API keys and their
 * last_used_at, refresh tokens); docs/cloud-durability.md says which write goes where.
 * Under concurrent load on both paths, no write fails with SQLITE_BUSY (a 500) and none is
 * lost.
 */
import t from 'tap';
import { event, startTestCloud } from './helpers.js';

/** Runs `jobs` with at most `n` at a time. */
async function pool<T>(n: number, jobs: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

t.test('concurrent writes on both connections under ingest load: never SQLITE_BUSY, never a lost write', async (t) => {
  const c = await startTestCloud(t);
  const TO_CORRECT = 40;
  for (let i = 0; i < TO_CORRECT; i++) {
    t.equal((await c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event(`fix-${i}`) })).status, 202);
  }
  const keys = await Promise.all(Array.from({ length: 30 }, (_, i) => c.ctx.apiKeys.create(`edge-${i}`)));
  const login = (await (await c.req('/auth/login', { method: 'POST', json: { username: 'admin', password: 'test-admin-password' } })).json()) as { refresh_token: string };
  const failures: string[] = [];
  const expect = (what: string, want: number) => async (r: Response) => {
    if (r.status !== want) failures.push(`${what}: ${r.status} ${await r.text()}`);
    return r;
  };

  // Writer thread: a steady stream of ingests from several edges, each key's first use also
  // writing its last_used_at on the service connection.
  const ingests = Array.from({ length: 400 }, (_, i) => () =>
    c.req('/events/ingest', { method: 'POST', key: keys[i % keys.length]!.key, json: event(`load-${i}`, { plate_text: `LD${i}`, metadata: {} }) }).then(expect(`ingest load-${i}`, 202)),
  );
  // Service connection: read-then-write transactions (corrections, config creates, token
  // rotation) interleaved with the writer thread's commits.
  const corrections = [1, 2].flatMap((round) =>
    Array.from({ length: TO_CORRECT }, (_, i) => () =>
      c.req(`/events/fix-${i}`, { method: 'PATCH', token: c.adminToken, json: { plate_text: `FX${round}${i}`, reason: `round ${round}` } }).then(expect(`correct fix-${i} #${round}`, 200)),
    ),
  );
  const cameras = Array.from({ length: 40 }, (_, i) => () =>
    c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: { id: `cam-l${i}`, name: `Lane ${i}`, rtsp_url: 'rtsp://127.0.0.1:8554/s', enabled: true, edge_id: 'edge-001' } }).then(expect(`camera ${i}`, 201)),
  );
  const zones = Array.from({ length: 40 }, (_, i) => () =>
    c.req('/config/zones', { method: 'POST', token: c.adminToken, json: { name: `Zone ${i}`, camera_id: 'cam-l0', type: 'enter', geometry: { type: 'polygon', points: [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 10 }] } } }).then(expect(`zone ${i}`, 201)),
  );
  let refresh = login.refresh_token;
  const rotations = async () => {
    for (let i = 0; i < 30; i++) {
      const r = await c.req('/auth/refresh', { method: 'POST', json: { refresh_token: refresh } }).then(expect(`refresh ${i}`, 200));
      if (r.status !== 200) return;
      refresh = ((await r.json()) as { refresh_token: string }).refresh_token;
    }
  };
  // Corrections of round 2 must follow round 1 of the same event: run the rounds in order.
  await Promise.all([
    pool(6, ingests),
    pool(2, corrections.slice(0, TO_CORRECT)).then(() => pool(2, corrections.slice(TO_CORRECT))),
    pool(2, cameras),
    pool(1, zones),
    rotations(),
  ]);
  t.same(failures, [], 'every write answered as it should (no 500 from SQLITE_BUSY)');

  // Nothing lost on either path.
  t.equal(await c.ctx.events.countAll(), TO_CORRECT + ingests.length, 'every ingested event stored');
  for (let i = 0; i < TO_CORRECT; i++) {
    const row = (await c.ctx.events.get(`fix-${i}`))!;
    const corr = JSON.parse(row.body).correction as { history: Array<{ to: string }> };
    if (row.plate_text !== `FX2${i}` || corr.history.map((h) => h.to).join() !== `FX1${i},FX2${i}`) {
      t.fail(`fix-${i}: corrections lost (${row.plate_text}, ${JSON.stringify(corr)})`);
    }
  }
  t.pass('both corrections of every event kept, in order');
  const listed = (await (await c.req('/config/cameras?limit=100', { token: c.adminToken })).json()) as { total: number };
  t.equal(listed.total, 40, 'every camera stored');
  const zoneList = (await (await c.req('/config/zones?limit=100', { token: c.adminToken })).json()) as { total: number; items: Array<{ id: string }> };
  t.equal(zoneList.total, 40, 'every zone stored');
  t.equal(new Set(zoneList.items.map((z) => z.id)).size, 40, 'generated zone ids are unique');
  const used = c.ctx.database.sqlite!.db.prepare("SELECT COUNT(*) FROM api_keys WHERE name LIKE 'edge-%' AND last_used_at IS NOT NULL").pluck().get();
  t.equal(used, keys.length, "every key's last_used_at written");
  t.equal((await c.req('/auth/refresh', { method: 'POST', json: { refresh_token: refresh } })).status, 200, 'the last rotated refresh token is the live one');
});
