import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Outbox } from '../../../edge/outbox/outbox.js';
import { makeEventId } from '../../../edge/outbox/event-id.js';
import { tempDir } from '../../fixtures/media.js';
import { sampleEvent, fakeJpeg } from '../../fixtures/events.js';
import { EventIngest } from '../../../shared/schemas/event.js';

t.test('pragmas: WAL and synchronous=FULL', async (t) => {
  const ob = new Outbox({ dataDir: tempDir(t), exporters: ['cloud'] });
  t.teardown(() => ob.close());
  t.equal(ob.db.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(ob.db.pragma('synchronous', { simple: true }), 2, 'FULL');
});

t.test('an event is stored with its images and one delivery row per exporter; survives reopen', async (t) => {
  const dir = tempDir(t);
  let ob = new Outbox({ dataDir: dir, exporters: ['cloud', 'mqtt'] });
  ob.add(sampleEvent(1), { frame: fakeJpeg(1), crop: fakeJpeg(101, 300) });
  ob.close();
  ob = new Outbox({ dataDir: dir, exporters: ['cloud', 'mqtt'] });
  t.teardown(() => ob.close());
  for (const ex of ['cloud', 'mqtt']) {
    const [h] = ob.heads(ex);
    t.equal(h.eventId, sampleEvent(1).event_id);
    t.same(ob.readImage(h.framePath), fakeJpeg(1));
    t.same(ob.readImage(h.cropPath), fakeJpeg(101, 300));
    t.ok(EventIngest.safeParse(h.body).success, 'stored body is a contract event');
  }
  t.same(ob.stats().byExporter.cloud, { pending: 1, delivered: 0, dead: 0, oldestPendingAt: ob.stats().byExporter.cloud.oldestPendingAt });
});

t.test('invalid bodies and duplicate ids are refused', async (t) => {
  const ob = new Outbox({ dataDir: tempDir(t), exporters: ['cloud'] });
  t.teardown(() => ob.close());
  t.throws(() => ob.add({ ...sampleEvent(1), plate_text: '' }), { code: 'VALIDATION_ERROR' });
  t.throws(() => ob.add({ ...sampleEvent(1), event_id: 'bad id/with slash' }), { code: 'VALIDATION_ERROR' });
  ob.add(sampleEvent(1));
  t.throws(() => ob.add(sampleEvent(1)), { code: 'DUPLICATE_RESOURCE' });
  t.equal(ob.stats().events, 1);
});

t.test('heads: the oldest pending event per camera; dead letters do not block the lane', async (t) => {
  const ob = new Outbox({ dataDir: tempDir(t), exporters: ['cloud'] });
  t.teardown(() => ob.close());
  const a1 = ob.add(sampleEvent(1, 'cam-a'));
  const b1 = ob.add(sampleEvent(2, 'cam-b'));
  const a2 = ob.add(sampleEvent(3, 'cam-a'));
  t.same(ob.heads('cloud').map((h) => h.seq), [a1, b1]);
  ob.markDead('cloud', a1, 'HTTP 400');
  t.same(ob.heads('cloud').map((h) => h.seq), [b1, a2], 'next event of cam-a is up');
  ob.markFailed('cloud', b1, 'HTTP 503', Date.now() + 60_000);
  const b = ob.heads('cloud').find((h) => h.cameraId === 'cam-b')!;
  t.equal(b.seq, b1, 'a transient failure keeps the head (order per camera)');
  t.equal(b.attempts, 1);
  ob.markDelivered('cloud', b1);
  ob.markDelivered('cloud', a2);
  t.same(ob.heads('cloud'), []);
  t.equal(ob.deadLetters()[0].eventId, sampleEvent(1, 'cam-a').event_id);
  t.same(ob.depth(), { cloud: { pending: 0, dead: 1 } });
  t.equal(ob.retry('cloud'), 1, 'retry revives the dead letter');
  t.same(ob.depth(), { cloud: { pending: 1, dead: 0 } });
  t.same(ob.heads('cloud').map((h) => h.seq), [a1]);
});

t.test('replay queues delivered events again and backfills a new exporter', async (t) => {
  const ob = new Outbox({ dataDir: tempDir(t), exporters: ['cloud'] });
  t.teardown(() => ob.close());
  const s = ob.add(sampleEvent(1));
  ob.markDelivered('cloud', s);
  t.equal(ob.replay('cloud'), 1);
  t.equal(ob.heads('cloud')[0].seq, s);
  t.equal(ob.replay('webhook'), 1, 'an exporter that never had it gets it');
  t.equal(ob.heads('webhook')[0].seq, s);
});

t.test('over the disk budget images go oldest-first; events are never evicted', async (t) => {
  const dir = tempDir(t);
  const ob = new Outbox({ dataDir: dir, exporters: ['cloud'], imageBudgetBytes: 10_000 });
  t.teardown(() => ob.close());
  for (let i = 0; i < 10; i++) ob.add(sampleEvent(i), { frame: fakeJpeg(i, 2000), crop: fakeJpeg(i, 500) });
  const st = ob.stats();
  t.equal(st.events, 10, 'every event kept');
  t.ok(st.imageBytes <= 10_000, `image bytes ${st.imageBytes} within budget`);
  const rows = ob.db.prepare('SELECT frame_path FROM events ORDER BY seq').all() as Array<{ frame_path: string | null }>;
  const kept = rows.map((r) => r.frame_path !== null);
  t.same(kept, [false, false, false, false, false, false, true, true, true, true], 'the newest images survive');
  const files = readdirSync(join(dir, 'images'), { recursive: true }).filter((f) => String(f).endsWith('.jpg'));
  t.equal(files.length, 8, 'evicted files are gone from disk');
  const heads = ob.heads('cloud');
  t.equal(heads[0].framePath, null, 'an evicted event is still delivered, without images');
});

t.test('orphan image files (crash between file and row) are swept at open', async (t) => {
  const dir = tempDir(t);
  let ob = new Outbox({ dataDir: dir, exporters: ['cloud'] });
  ob.add(sampleEvent(1), { frame: fakeJpeg(1) });
  const day = readdirSync(join(dir, 'images'))[0];
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'images', day, 'orphan-frame.jpg'), 'x');
  writeFileSync(join(dir, 'images', day, 'x.jpg.tmp-123'), 'x');
  ob.close();
  ob = new Outbox({ dataDir: dir, exporters: ['cloud'] });
  t.teardown(() => ob.close());
  t.notOk(existsSync(join(dir, 'images', day, 'orphan-frame.jpg')));
  t.notOk(existsSync(join(dir, 'images', day, 'x.jpg.tmp-123')));
  t.ok(ob.readImage(ob.heads('cloud')[0].framePath), 'referenced image kept');
});

t.test('event ids are stable, unique per read and in the safe charset', async (t) => {
  t.equal(makeEventId('edge-1', 'cam 1/x', 1700000000000, 5), 'edge-1-cam_1_x-1700000000000-5');
  t.equal(makeEventId('e', 'c', 1, 2), makeEventId('e', 'c', 1, 2));
  t.not(makeEventId('e', 'c', 1, 2), makeEventId('e', 'c', 1, 3));
  const long = makeEventId('x'.repeat(100), 'y'.repeat(100), 1, 2);
  t.ok(long.length <= 128 && /^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(long));
  t.ok(makeEventId('_edge', 'c', 1, 1).match(/^[A-Za-z0-9]/));
});

t.test('a reader (CLI) does not sweep and sees the writer\'s commits (WAL)', async (t) => {
  const dir = tempDir(t);
  const w = new Outbox({ dataDir: dir, exporters: ['cloud'] });
  t.teardown(() => w.close());
  w.add(sampleEvent(1));
  const r = new Database(join(dir, 'outbox.db'), { readonly: true });
  t.teardown(() => r.close());
  t.equal((r.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n, 1);
});

t.test('one writer: a second live writer is refused, readers are not, a dead writer\'s lock is taken over', async (t) => {
  const { writeFileSync, existsSync: exists } = await import('node:fs');
  const { spawn } = await import('node:child_process');
  const dir = tempDir(t);
  const ob = new Outbox({ dataDir: dir, exporters: ['cloud'] });
  t.throws(() => new Outbox({ dataDir: dir, exporters: ['cloud'] }), { code: 'SERVICE_UNAVAILABLE' }, 'same process twice');
  const reader = new Outbox({ dataDir: dir, exporters: [], sweepOrphans: false });
  reader.close();
  ob.close();
  t.notOk(exists(join(dir, 'outbox.lock')), 'released on close');
  // A live foreign writer (a node process), then the same pid once it is dead.
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  t.teardown(() => other.kill('SIGKILL'));
  writeFileSync(join(dir, 'outbox.lock'), String(other.pid));
  t.throws(() => new Outbox({ dataDir: dir, exporters: ['cloud'] }), { message: new RegExp(`another edge \\(pid ${other.pid}\\)`) });
  other.kill('SIGKILL');
  await new Promise((r) => other.once('exit', r));
  const again = new Outbox({ dataDir: dir, exporters: ['cloud'] });
  t.teardown(() => again.close());
  t.pass('a stale lock (writer killed) is taken over');
});
