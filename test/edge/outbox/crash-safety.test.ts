import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Outbox } from '../../../edge/outbox/outbox.js';
import { tempDir } from '../../fixtures/media.js';
import { fakeJpeg } from '../../fixtures/events.js';

const writer = fileURLToPath(new URL('../../fixtures/outbox-writer.ts', import.meta.url));

function runAndKill(dir: string, start: number, afterMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, String(start)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (c) => {
      out += c;
      if (!timer && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited on its own: ${out.slice(-500)}`));
      resolve(out.split('\n').filter((l) => l && l !== 'ready'));
    });
  });
}

t.test('kill -9 while writing: every event acknowledged by add() is there, whole, with its images', async (t) => {
  const dir = tempDir(t, 'anpr-crash-');
  const committed: string[] = [];
  let next = 0;
  for (let round = 0; round < 4; round++) {
    const ids = await runAndKill(dir, next, 300 + Math.floor(Math.random() * 900));
    committed.push(...ids);
    next += ids.length + 1000; // leave a gap: the killed add() may or may not have committed
  }
  t.ok(committed.length > 20, `${committed.length} events committed across 4 kills`);
  const ob = new Outbox({ dataDir: dir, exporters: ['cloud', 'mqtt'] });
  t.teardown(() => ob.close());
  t.equal(ob.db.pragma('integrity_check', { simple: true }), 'ok', 'database intact');
  const rows = ob.db.prepare('SELECT event_id, frame_path, crop_path, body FROM events').all() as Array<{ event_id: string; frame_path: string; crop_path: string; body: string }>;
  const byId = new Map(rows.map((r) => [r.event_id, r]));
  let missing = 0;
  let badImages = 0;
  for (const id of committed) {
    const r = byId.get(id);
    if (!r) { missing++; continue; }
    const n = (JSON.parse(r.body) as { metadata: { n: number } }).metadata.n;
    if (!ob.readImage(r.frame_path)?.equals(fakeJpeg(n, 4096)) || !ob.readImage(r.crop_path)?.equals(fakeJpeg(n + 7, 512))) badImages++;
  }
  t.equal(missing, 0, 'no acknowledged event lost');
  t.equal(badImages, 0, 'every image complete');
  t.ok(rows.length - committed.length <= 4, 'at most one unacknowledged commit per kill');
  const counts = ob.db.prepare('SELECT exporter, COUNT(*) AS n FROM deliveries GROUP BY exporter').all() as Array<{ exporter: string; n: number }>;
  t.same(counts.map((c) => c.n), [rows.length, rows.length], 'every event has a delivery row per exporter (same transaction)');
  // Every row points at images that exist (no dangling paths).
  t.ok(rows.every((r) => ob.readImage(r.frame_path) && ob.readImage(r.crop_path)), 'no dangling image paths');
});
