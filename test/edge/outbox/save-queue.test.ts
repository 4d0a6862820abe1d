/**
 * The in-memory retry queue in front of a real outbox whose saves fail for a while: the images
 * directory is replaced by a file (ENOTDIR on every save, as root too), then restored.
 */
import t from 'tap';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { Outbox } from '../../../edge/outbox/outbox.js';
import { SaveRetryQueue } from '../../../edge/outbox/save-queue.js';
import { tempDir } from '../../fixtures/media.js';
import { sampleEvent, fakeJpeg } from '../../fixtures/events.js';
import { waitFor } from '../../fixtures/wait.js';

function breakImages(ob: Outbox): () => void {
  renameSync(ob.imagesDir, `${ob.imagesDir}.away`);
  writeFileSync(ob.imagesDir, 'not a directory');
  return () => {
    rmSync(ob.imagesDir);
    renameSync(`${ob.imagesDir}.away`, ob.imagesDir);
  };
}

const ids = (ob: Outbox) => (ob.db.prepare('SELECT event_id FROM events ORDER BY seq').all() as Array<{ event_id: string }>).map((r) => r.event_id);

t.test('failed saves wait in order, the oldest are dropped past the bound, the rest are saved once when the disk recovers', async (t) => {
  const ob = new Outbox({ dataDir: tempDir(t), exporters: ['cloud'] });
  t.teardown(() => ob.close());
  const saved: string[] = [];
  const dropped: Array<[string, string]> = [];
  const failed: string[] = [];
  const q = new SaveRetryQueue<number>({
    save: (b, i) => ob.add(b, i),
    onSaved: (it) => saved.push(it.body.event_id),
    onDropped: (it, reason) => dropped.push([it.body.event_id, reason]),
    onFailed: (it) => failed.push(it.body.event_id),
    maxItems: 4,
    initialBackoffMs: 10,
    maxBackoffMs: 50,
  });
  t.teardown(() => q.close());
  const ev = (i: number) => sampleEvent(i, i % 2 ? 'cam-a' : 'cam-b');
  const img = (i: number) => ({ frame: fakeJpeg(i, 1000), crop: fakeJpeg(i + 100, 100) });

  q.submit(ev(1), img(1), 1);
  t.equal(q.depth, 0, 'a working save goes straight through');
  const restore = breakImages(ob);
  for (let i = 2; i <= 7; i++) q.submit(ev(i), img(i), i);
  t.equal(q.depth, 4, 'bounded at maxItems');
  t.same(dropped, [[ev(2).event_id, 'overflow'], [ev(3).event_id, 'overflow']], 'the oldest are dropped, with a reason');
  t.equal(q.dropped, 2);
  await waitFor(() => failed.length >= 10, 'several retries while the disk is broken', 20_000, 10);
  t.same(ids(ob), [ev(1).event_id], 'nothing half-saved while broken');
  t.match(q.lastError, /ENOTDIR|not a directory/);
  restore();
  await waitFor(() => q.depth === 0, 'the queue drains once saves work again', 20_000, 10);
  const want = [1, 4, 5, 6, 7].map((i) => ev(i).event_id);
  t.same(saved, want, 'each read saved once, in order');
  t.same(ids(ob), want, 'in the outbox once each, in order');
  t.equal(q.bytes, 0);
  q.submit(ev(8), img(8), 8);
  t.equal(q.depth, 0, 'direct saves again');
  t.equal(ids(ob).length, 6);
});

t.test('the byte budget bounds the queue too; an invalid read is dropped, not retried forever; close() gives a last try', async (t) => {
  const ob = new Outbox({ dataDir: tempDir(t), exporters: ['cloud'] });
  t.teardown(() => ob.close());
  const dropped: Array<[string, string]> = [];
  const saved: string[] = [];
  const q = new SaveRetryQueue<null>({
    save: (b, i) => ob.add(b, i),
    onSaved: (it) => saved.push(it.body.event_id),
    onDropped: (it, reason) => dropped.push([it.body.event_id, reason]),
    maxBytes: 5000,
    initialBackoffMs: 10_000, // retries only by drain()/close() in this test
    maxBackoffMs: 10_000,
  });
  const restore = breakImages(ob);
  for (let i = 1; i <= 4; i++) q.submit(sampleEvent(i), { frame: fakeJpeg(i, 2000) }, null);
  t.equal(q.depth, 2, 'two 2 kB reads fit in 5 kB');
  t.same(dropped.map((d) => d[0]), [sampleEvent(1).event_id, sampleEvent(2).event_id]);
  t.ok(q.bytes <= 5000);
  q.submit({ ...sampleEvent(5), plate_text: '' }, { frame: fakeJpeg(5, 10) }, null);
  restore();
  t.equal(q.drain(), 0);
  t.same(saved, [sampleEvent(3).event_id, sampleEvent(4).event_id]);
  t.same(dropped.at(-1), [sampleEvent(5).event_id, 'invalid'], 'an invalid body is dropped and does not block the queue');

  const again = breakImages(ob);
  q.submit(sampleEvent(6), { frame: fakeJpeg(6, 10) }, null);
  t.equal(q.depth, 1);
  again();
  t.equal(q.close(), 0, 'close() saves what it can first');
  t.same(saved.at(-1), sampleEvent(6).event_id);
  q.submit(sampleEvent(7), { frame: fakeJpeg(7, 10) }, null);
  t.same(dropped.at(-1), [sampleEvent(7).event_id, 'shutdown'], 'after close, reads are refused and counted');
});
