/**
 * A failed outbox save does not lose the read: the real daemon (two cameras through ffmpeg,
 * the fake recognizer), a real outbox whose images directory is replaced by a file for a while
 * (every save fails with ENOTDIR, as root too), then restored.
 */
import t from 'tap';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EdgeDaemon } from '../../../edge/daemon/daemon.js';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import { FakeRecognizer } from '../../fixtures/fake-recognizer.js';
import { tempDir, makeClip } from '../../fixtures/media.js';
import { waitFor } from '../../fixtures/wait.js';

t.test('reads whose save fails are kept, retried and stored exactly once, in order per camera', async (t) => {
  const dir = tempDir(t);
  const clip = makeClip(dir, { seconds: 3, size: '160x120', rate: 10 });
  const dataDir = join(dir, 'edge');
  const cfg = parseEdgeConfig({
    edge_id: 'saves',
    data_dir: dataDir,
    cameras: ['cam-a', 'cam-b'].map((id) => ({ id, rtsp_url: clip, fps: 10, resolution: { width: 160, height: 120 } })),
    delivery: { initial_backoff_ms: 50, max_backoff_ms: 400 },
    http: { port: 0 },
  });
  const d = new EdgeDaemon({ config: cfg, recognizer: new FakeRecognizer(3) });
  t.teardown(() => d.stop());
  await d.start();
  const metric = async (name: string) => {
    const text = await (await fetch(`${d.httpUrl}/metrics`)).text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const status = async () => (await (await fetch(`${d.httpUrl}/status`)).json()) as { save_queue: { pending: number; dropped: number; last_error: string | null }; outbox: { events_committed_since_start: number } };

  await waitFor(() => d.eventsCommitted >= 4, 'events stored while the disk works', 30_000, 50);
  t.equal(await metric('anpr_outbox_save_pending'), 0);

  // The disk "fails": the images directory becomes a file.
  const images = join(dataDir, 'images');
  renameSync(images, `${images}.away`);
  writeFileSync(images, 'not a directory');
  await waitFor(async () => ((await metric('anpr_outbox_save_pending')) ?? 0) >= 4, 'reads pile up in the save queue', 30_000, 50);
  const s = await status();
  t.ok(s.save_queue.pending >= 4, '/status shows the queue depth');
  t.match(s.save_queue.last_error, /ENOTDIR|not a directory/);
  t.ok(((await metric('anpr_event_errors_total')) ?? 0) >= 1, 'failed saves are still counted');

  // It recovers: everything waiting is saved, and new reads go straight through again.
  rmSync(images);
  renameSync(`${images}.away`, images);
  await waitFor(async () => (await metric('anpr_outbox_save_pending')) === 0, 'the queue drains', 30_000, 50);
  const drainedAt = d.eventsCommitted;
  await waitFor(() => d.eventsCommitted >= drainedAt + 2, 'new reads are stored after the recovery', 30_000, 50);
  t.ok(((await metric('anpr_outbox_save_recovered_total')) ?? 0) >= 1, 'reads saved after failed attempts are counted');
  t.equal((await status()).save_queue.dropped, 0);
  t.equal(await metric('anpr_outbox_save_dropped_total'), null, 'nothing dropped');
  await d.stop();

  // Every read the recognizer confirmed is in the outbox exactly once, in order per camera.
  const db = new Database(join(dataDir, 'outbox.db'), { readonly: true });
  t.teardown(() => db.close());
  const rows = db.prepare("SELECT camera_id, json_extract(body, '$.plate_text') AS plate_text FROM events ORDER BY seq").all() as Array<{ camera_id: string; plate_text: string }>;
  for (const cam of ['cam-a', 'cam-b']) {
    const prefix = `P${cam.replace(/-/g, '').toUpperCase()}N`;
    const n = rows.filter((r) => r.camera_id === cam).map((r) => Number(r.plate_text.slice(prefix.length)));
    t.ok(n.length >= 4, `${cam}: ${n.length} events`);
    t.same(n, n.map((_, i) => i + 1), `${cam}: reads 1..${n.length}, each once, in order`);
  }
  t.equal(rows.length, d.eventsCommitted, 'the daemon counted each stored read once');
});
