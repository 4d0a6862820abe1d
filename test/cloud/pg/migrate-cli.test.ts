/**
 * `anpr cloud migrate` through bin/anpr.js: Ctrl-C stops after the batch being written (exit
 * 130), kill -9 in the middle of a batch keeps every committed batch and stores nothing twice,
 * and the same command then finishes (exit 0), printing each table's counts. The copy is held at
 * a chosen batch by a transaction of the test's own holding one of its event ids (the copy's
 * insert waits for it), so each stop lands where the test says, without sleeps.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePartitions, migrate as migratePg } from '../../../cloud/db/pg/migrations.js';
import { startPostgresCluster } from '../../fixtures/postgres.js';
import { seedCloudEvents } from '../../fixtures/seed-events.js';
import { waitFor } from '../../fixtures/wait.js';
import { poolOf, tempDir } from './import-helpers.js';

const bin = fileURLToPath(new URL('../../../bin/anpr.js', import.meta.url));
const cluster = await startPostgresCluster(t);

interface Run {
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
}

function anpr(args: string[], env: Record<string, string> = {}): Run {
  const { ANPR_DATABASE_URL: _, ...rest } = process.env;
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...rest, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { exited, stdout: () => out, stderr: () => err, kill: (s) => child.kill(s) };
}

/** Holds `id` in event_ids in an open transaction: the copy's batch holding it waits until release. */
async function hold(pool: pg.Pool, id: string, ts: number): Promise<() => Promise<void>> {
  const c = await pool.connect();
  await c.query('BEGIN');
  await c.query('INSERT INTO event_ids (event_id, ts) VALUES ($1, $2)', [id, ts]);
  return async () => {
    await c.query('ROLLBACK');
    c.release();
  };
}

const sessions = async (pool: pg.Pool, where = '') =>
  (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'anpr-migrate' ${where}`)).rows[0]!.n;
const count = async (pool: pg.Pool, sql: string) => (await pool.query<{ n: number }>(sql)).rows[0]!.n;

t.test('a wrong URL is refused with the setting named, from --to or ANPR_DATABASE_URL', async (t) => {
  const dir = tempDir(t);
  await seedCloudEvents(dir, 3);
  const flag = anpr(['cloud', 'migrate', '--from', dir, '--to', 'mysql://u:secret@127.0.0.1/db']);
  t.equal(await flag.exited, 1);
  t.match(flag.stderr(), /anpr cloud migrate: CONFIG_INVALID: The database URL \(--to\) must be postgres:\/\/ or postgresql:\/\/, not mysql:\/\//);
  t.notMatch(flag.stderr(), /secret/, 'no password echoed');
  const env = anpr(['cloud', 'migrate', '--from', dir], { ANPR_DATABASE_URL: 'http://127.0.0.1/db' });
  t.equal(await env.exited, 1);
  t.match(env.stderr(), /The database URL \(ANPR_DATABASE_URL\) must be postgres/);
});

t.test('Ctrl-C, then kill -9 mid-batch, then the same command: every event once, counts printed, exit 0', async (t) => {
  const dir = tempDir(t);
  await seedCloudEvents(dir, 600);
  const sqlite = new Database(join(dir, 'anpr.db'), { readonly: true });
  const events = sqlite.prepare('SELECT event_id, ts FROM events ORDER BY seq').all() as Array<{ event_id: string; ts: number }>;
  sqlite.close();
  const url = await cluster.createDatabase();
  const pool = poolOf(t, url);
  // The schema and the events' partition, so that the test can hold an event id before the copy
  // begins (creating a partition would wait for that hold: its foreign key locks event_ids).
  await migratePg(pool);
  await ensurePartitions(pool, events[0]!.ts, events.at(-1)!.ts);
  const args = ['cloud', 'migrate', '--from', dir, '--to', url, '--batch-size', '50'];
  const waiting = () => waitFor(async () => (await sessions(pool, "AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO event_ids%'")) > 0, 'the copy waiting for the held event id');

  // Ctrl-C while the batch of events 250-299 waits: that batch is kept, then it stops.
  let release = await hold(pool, events[260]!.event_id, events[260]!.ts);
  const first = anpr(args);
  await waiting();
  first.kill('SIGINT');
  await waitFor(() => first.stderr().includes('Stopping after the current batch'), 'the Ctrl-C answered');
  await release();
  t.equal(await first.exited, 130, 'exit 130');
  t.match(first.stderr(), /events: stopped after 300 of 600 rows[\s\S]*Run the same command again to continue/);
  t.equal(await count(pool, 'SELECT count(*)::int AS n FROM events'), 300, 'six batches of events stored');

  // kill -9 while the batch of events 450-499 waits: it dies with its transaction.
  release = await hold(pool, events[460]!.event_id, events[460]!.ts);
  const second = anpr(args);
  await waiting();
  second.kill('SIGKILL');
  await second.exited;
  await release();
  // The killed run's session goes once the server notices its client is gone (its advisory lock with it).
  await waitFor(async () => (await sessions(pool)) === 0, "the killed run's session ended");
  t.equal(await count(pool, 'SELECT count(*)::int AS n FROM events'), 450, 'the batches before the kill are kept, the one it was writing is not');

  const third = anpr(args);
  t.equal(await third.exited, 0, 'the third run finishes: exit 0', { stderr: third.stderr() });
  t.match(third.stderr(), /Resuming the copy of .*anpr\.db into postgres:\/\/\*\*\*:\*\*\*@/);
  t.match(third.stderr(), /events: 600 rows \(450 of them copied by an earlier run\)/);
  t.match(third.stdout(), /^table\s+sqlite\s+postgresql$/m);
  t.match(third.stdout(), /^events\s+600\s+600$/m);
  t.match(third.stdout(), /^event_ids\s+600\s+600$/m);
  t.match(third.stdout(), /^stats_rollup\s+(\d+)\s+\1$/m);
  t.notMatch(third.stdout(), /DIFFERENT/);
  t.match(third.stdout(), /Images are not in the database: .*images stays where it is/);
  t.equal(await count(pool, 'SELECT count(DISTINCT event_id)::int AS n FROM events'), 600, 'every event once');
  t.equal(await count(pool, 'SELECT count(*)::int AS n FROM events'), 600);
  t.equal(await count(pool, 'SELECT count(*)::int AS n FROM event_ids'), 600);

  const again = anpr(args);
  t.equal(await again.exited, 0, 'running it once more is harmless');
  t.match(again.stderr(), /Checking the copy \(finished \d{4}-.*\) of /);
});
