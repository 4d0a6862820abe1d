/**
 * Retention on PostgreSQL (ANPR_RETENTION_DAYS), through the real service: months of events
 * that ended more than the retention period ago are dropped with their images when the cloud
 * starts (and every 6 hours), the recent ones stay with theirs; a bad setting stops the start
 * with a message naming it.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloud } from '../../../cloud/server.js';
import { silentLogger } from '../../../shared/log.js';
import { startPostgresCluster } from '../../fixtures/postgres.js';
import { waitFor } from '../../fixtures/wait.js';
import { ADMIN_PASSWORD, makeJpeg } from '../helpers.js';

const pgc = await startPostgresCluster(t);
const DAY = 86_400_000;

/** Every file under `dir`, relative to it. */
const files = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name).slice(dir.length + 1)) : [];

t.test('a restart with ANPR_RETENTION_DAYS drops past months with their images and keeps the rest', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'anpr-retention-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const databaseUrl = await pgc.createDatabase();
  const start = (env: Record<string, string> = {}) =>
    startCloud({ port: 0, dataDir, databaseUrl, logger: silentLogger, env: { ANPR_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env } });

  const first = await start();
  const key = (await first.ctx.apiKeys.create('edge-001', 'gate')).key;
  const ingest = async (id: string, ts: number) => {
    const fd = new FormData();
    fd.set('event', JSON.stringify({ event_id: id, plate_text: 'AB123CD', camera_id: 'cam-001', timestamp: new Date(ts).toISOString() }));
    fd.set('frame', new Blob([new Uint8Array(makeJpeg('64x48'))], { type: 'image/jpeg' }), 'f.jpg');
    const r = await fetch(`${first.url}/events/ingest`, { method: 'POST', headers: { 'x-api-key': key }, body: fd });
    t.equal(r.status, 202, `${id} stored`);
  };
  const now = Date.now();
  await ingest('ev-old', now - 120 * DAY);
  await ingest('ev-recent', now - DAY);
  await first.close();
  const images = join(dataDir, 'images');
  t.equal(files(images).length, 2, 'two images on disk');

  const second = await start({ ANPR_RETENTION_DAYS: '30' });
  t.teardown(() => second.close());
  // The start's maintenance runs in the background: wait for its effect.
  await waitFor(async () => !(await second.ctx.events.exists('ev-old')), 'the old month dropped', 30_000);
  await waitFor(() => files(images).length === 1, 'its image removed', 30_000);
  t.ok(await second.ctx.events.exists('ev-recent'), 'the recent event stays');
  t.match(files(images)[0], /ev-recent-frame-/, 'with its image');
  t.equal(await second.ctx.events.countAll(), 1);
});

t.test('a bad ANPR_RETENTION_DAYS stops the start with a message naming it, and opens nothing', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'anpr-retention-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const databaseUrl = await pgc.createDatabase();
  for (const bad of ['0', '-3', '1.5', 'thirty', '99999']) {
    await t.rejects(
      startCloud({ port: 0, dataDir, databaseUrl, logger: silentLogger, env: { ANPR_RETENTION_DAYS: bad } }),
      { code: 'CONFIG_INVALID', message: `ANPR_RETENTION_DAYS must be a whole number of days from 1 to 36500, not '${bad}'` },
      bad,
    );
  }
});
