/**
 * CSV export of 100k events in bounded memory: the service runs as a real `anpr cloud`
 * child with its V8 heap capped well below what holding the result would need (the rows
 * read from SQLite are ~1 KiB each: ~100 MiB of strings), and must stream every row.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { seedCloudEvents } from '../../fixtures/seed-events.js';
import { CSV_COLUMNS } from '../../../cloud/routes/export.js';

const N = 100_000;
const HEAP_MB = 80;
const ROOT = resolve(import.meta.dirname, '../../..');

const peakRssKb = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

t.test(`${N} events export as CSV from a cloud whose heap is capped at ${HEAP_MB} MiB`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-export-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await seedCloudEvents(dir, N, { note: 'x'.repeat(700) });

  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, join(ROOT, 'bin/anpr.js'), 'cloud', '--port', '0', '--data-dir', dir], {
    env: { ...process.env, ANPR_ADMIN_PASSWORD: 'export-test-pw', ANPR_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`cloud did not start: ${stderr}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    child.once('exit', (code) => rej(new Error(`cloud exited ${code}: ${stderr}`)));
  });
  const tok = await (await fetch(`${url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'export-test-pw' }) })).json();
  const rssBefore = peakRssKb(child.pid!);

  const tExport = performance.now();
  const r = await fetch(`${url}/events/export?format=csv&sort_order=asc`, { headers: { authorization: `Bearer ${tok.access_token}` } });
  t.equal(r.status, 200);
  const dec = new TextDecoder();
  let lines = 0;
  let bytes = 0;
  let first = '';
  let tail = '';
  let prevId = '';
  let ordered = true;
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    const text = tail + dec.decode(chunk, { stream: true });
    const parts = text.split('\r\n');
    tail = parts.pop()!;
    for (const line of parts) {
      if (lines === 0) first = line;
      else {
        const id = line.slice(0, line.indexOf(','));
        if (id <= prevId) ordered = false;
        prevId = id;
      }
      lines++;
    }
  }
  const exportMs = Math.round(performance.now() - tExport);
  t.equal(tail, '', 'ends with CRLF');
  t.equal(first, CSV_COLUMNS.join(','));
  t.equal(lines, N + 1, 'header + every event');
  t.ok(ordered, 'in timestamp order');
  t.equal(prevId, `evt-${String(N - 1).padStart(6, '0')}`);
  t.equal(child.exitCode, null, `the service is still running (stderr: ${stderr.slice(-300)})`);
  t.equal((await fetch(`${url}/healthz`)).status, 200);
  const rssAfter = peakRssKb(child.pid!);
  t.comment(`exported ${lines - 1} rows, ${(bytes / 1048576).toFixed(1)} MiB of CSV in ${exportMs} ms; service peak RSS ${Math.round(rssBefore / 1024)} MiB before, ${Math.round(rssAfter / 1024)} MiB after`);
});
