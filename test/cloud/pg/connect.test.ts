/**
 * Opening the PostgreSQL pool (cloud/db/pg/connect.ts) against a real PostgreSQL 15 on
 * loopback: settings that can never work fail at once naming the setting and never showing the
 * password; a database that is down at start is retried, logged, and connected once it is up.
 */
import t from 'tap';
import { openPgPool, connectFailure, retryDelay, DEFAULT_RETRY, type PgDatabase } from '../../../cloud/db/pg/connect.js';
import { parseDatabaseUrl } from '../../../cloud/db/pg/database-url.js';
import { createLogger } from '../../../shared/log.js';
import { startPostgresCluster } from '../../fixtures/postgres.js';
import { freePort } from '../../fixtures/processes.js';
import { waitFor } from '../../fixtures/wait.js';

const SETTING = /--database-url \/ ANPR_DATABASE_URL/;

/** The error an open rejects with (a test failure if it succeeds). */
async function failure(opening: Promise<PgDatabase>): Promise<Error & { code?: string }> {
  try {
    await (await opening).close();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected the open to fail');
}

/** A JSON logger whose lines the test reads. */
function recorder() {
  const lines: Array<Record<string, unknown>> = [];
  const text: string[] = [];
  const logger = createLogger({
    format: 'json',
    level: 'debug',
    destination: {
      write(s: string) {
        text.push(s);
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    },
  });
  const retries = () => lines.filter((l) => l.msg === 'database not reachable yet; retrying');
  return { logger, lines, retries, all: () => text.join('') };
}

t.test('a URL that is not a PostgreSQL URL: CONFIG_INVALID naming the setting, never the password', async (t) => {
  const e = await failure(openPgPool('mysql://root:hunter2@127.0.0.1:3306/anpr'));
  t.equal(e.code, 'CONFIG_INVALID');
  t.match(e.message, /must be postgres:\/\/ or postgresql:\/\/, not mysql:\/\//);
  t.match(e.message, SETTING);
  t.notMatch(e.message, /hunter2/);
  for (const bad of ['postgres://u:hunter2@[::1/anpr', 'postgres://u:hunter2@db:99999/anpr', 'db.example hunter2', 'postgres:hunter2', 'postgres://u:hunter2%zz@db/anpr']) {
    const err = await failure(openPgPool(bad));
    t.equal(err.code, 'CONFIG_INVALID', bad);
    t.match(err.message, SETTING, `${bad}: names the setting`);
    t.notMatch(err.message, /hunter2/, `${bad}: the password is not shown (${err.message})`);
  }
  t.equal(parseDatabaseUrl('postgresql://anpr:hunter2@db:5432/anpr').display, 'postgresql://***:***@db:5432/anpr');
  t.equal(parseDatabaseUrl('postgres://anpr@%2Frun%2Fpostgresql/anpr').database, 'anpr', 'a unix socket directory as host');
});

t.test('refused credentials, an unknown database: CONFIG_INVALID at once, saying which part of the URL is wrong', async (t) => {
  const pgc = await startPostgresCluster(t);
  const log = recorder();
  const wrong = 'not-the-password-4711';
  const bad = await failure(openPgPool(pgc.url('postgres', { password: wrong }), { logger: log.logger }));
  t.equal(bad.code, 'CONFIG_INVALID');
  t.match(bad.message, /user\/password in the database URL \(--database-url \/ ANPR_DATABASE_URL\) were refused/);
  t.match(bad.message, /password authentication failed/);
  t.notOk(bad.message.includes(wrong), 'the password is not in the message');
  t.notOk(bad.message.includes(pgc.password), 'nor the right one');

  const nobody = await failure(openPgPool(pgc.url('postgres', { user: 'nobody' }), { logger: log.logger }));
  t.equal(nobody.code, 'CONFIG_INVALID', 'an unknown user is refused the same way');

  const missing = await failure(openPgPool(pgc.url('no_such_db'), { logger: log.logger }));
  t.equal(missing.code, 'CONFIG_INVALID');
  t.match(missing.message, /database in the database URL .* does not exist/);
  t.match(missing.message, /no_such_db/);
  t.notOk(missing.message.includes(pgc.password));

  t.equal(log.retries().length, 0, 'none of them was retried');
  t.notOk(log.all().includes(wrong) || log.all().includes(pgc.password), 'no log line holds a password');

  // The unix socket in the cluster's directory, as libpq writes it (local connections are trusted).
  const viaSocket = await openPgPool(`postgres://anpr@${encodeURIComponent(pgc.socketDir)}:${pgc.port}/postgres`);
  t.teardown(() => viaSocket.close());
  t.same((await viaSocket.pool.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
});

t.test('a database down at start: retried with backoff and logged, connected once it is up; a restart later is survived', async (t) => {
  const pgc = await startPostgresCluster(t, { start: false });
  const log = recorder();
  const opening = openPgPool(pgc.url(), { logger: log.logger, retry: { forMs: 300_000 } });
  await waitFor(() => log.retries().length >= 2, 'two logged retries', 60_000);
  await pgc.start();
  const db = await opening;
  t.teardown(() => db.close());
  t.same((await db.pool.query('SELECT 1::bigint AS one, current_setting($1) AS app', ['application_name'])).rows, [{ one: 1, app: 'anpr-cloud' }], 'bigint read as a number; named in pg_stat_activity');
  t.same((await db.pool.query('SHOW statement_timeout')).rows, [{ statement_timeout: '15s' }]);

  const tries = log.retries();
  // Refused while down; a try that lands while the server starts gets 57P03 ("starting up").
  t.ok(tries.every((l) => (l.code === 'ECONNREFUSED' || l.code === '57P03') && typeof l.retry_in_ms === 'number'), `each try logged with its error and the next wait: ${tries.map((l) => l.code).join(' ')}`);
  t.equal(tries[0]!.code, 'ECONNREFUSED', 'the first, while down: refused');
  t.ok(tries.every((l) => /^postgres:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\/postgres$/.test(String(l.database))), `the URL masked: ${String(tries[0]?.database)}`);
  t.ok(tries.every((l, i) => (l.retry_in_ms as number) <= DEFAULT_RETRY.initialMs * 2 ** i), 'waits within the schedule');
  t.notOk(log.all().includes(pgc.password), 'the password in no log line');
  t.ok(log.lines.some((l) => l.msg === 'database connected'));
  t.same(await db.probe().then((p) => p.ok), true);

  // The server restarts under an idle pooled connection: logged, not a crash; probe says so, then recovers.
  await pgc.stop();
  await waitFor(() => log.lines.some((l) => l.msg === 'an idle database connection failed; it will be replaced'), 'the dropped idle connection logged');
  const down = await db.probe();
  t.equal(down.ok, false);
  t.match(!down.ok && down.error, /ECONNREFUSED|connect/);
  await pgc.start();
  t.same(await db.probe().then((p) => p.ok), true, 'answers again after the restart');
});

t.test('a unix socket that does not exist yet is retried until the bound, then SERVICE_UNAVAILABLE', async (t) => {
  const log = recorder();
  const e = await failure(openPgPool('postgresql://anpr:hunter2@/anpr?host=/nonexistent/anpr-pg-socket', {
    logger: log.logger,
    retry: { initialMs: 20, maxMs: 100, forMs: 500 },
  }));
  t.equal(e.code, 'SERVICE_UNAVAILABLE');
  t.match(e.message, /did not answer in \d+ s \(\d+ tries\)/);
  t.ok(log.retries().length >= 1 && log.retries().every((l) => l.code === 'ENOENT'), 'ENOENT retried and logged');
  t.notOk(log.all().includes('hunter2') || e.message.includes('hunter2'));
});

t.test('the wait for a database that is down is cancelled by an AbortSignal', async (t) => {
  const port = await freePort(); // nothing listens there
  const log = recorder();
  const ac = new AbortController();
  const opening = openPgPool(`postgres://anpr:pw@127.0.0.1:${port}/anpr`, { logger: log.logger, signal: ac.signal, retry: { forMs: Infinity } });
  await waitFor(() => log.retries().length >= 1, 'a logged retry');
  ac.abort();
  await t.rejects(opening, { name: 'AbortError' });
  const tried = log.retries().length;

  const before = new AbortController();
  before.abort(new Error('shutting down'));
  await t.rejects(openPgPool(`postgres://anpr:pw@127.0.0.1:${port}/anpr`, { logger: log.logger, signal: before.signal }), { message: 'shutting down' });
  t.equal(log.retries().length, tried, 'an aborted signal: no try at all');
});

t.test('which failures are retried, and the schedule', async (t) => {
  const db = parseDatabaseUrl('postgres://anpr:pw@db/anpr');
  const s = 'ANPR_DATABASE_URL';
  const err = (code: string) => Object.assign(new Error(code), { code });
  for (const code of ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'ETIMEDOUT', '57P03', '57P01', '53300']) t.equal(connectFailure(err(code), db, s), null, `${code} retried`);
  t.equal(connectFailure(new AggregateError([err('ECONNREFUSED'), err('ECONNREFUSED')], 'connect'), db, s), null, 'IPv4 and IPv6 both refused: retried');
  t.equal(connectFailure(new Error('timeout expired'), db, s), null, "node-postgres's connect timeout: retried");
  for (const code of ['28P01', '28000', '3D000', '42501', 'ENOTFOUND']) t.equal(connectFailure(err(code), db, s)?.code, 'CONFIG_INVALID', `${code}: a setting to fix`);
  t.equal(connectFailure(err('XX000'), db, s)?.code, 'SERVICE_UNAVAILABLE', 'anything else: fails at once');
  const at = (a: number, r: number) => retryDelay(a, DEFAULT_RETRY, () => r);
  t.same([at(0, 0), at(0, 0.999999), at(1, 0), at(5, 1), at(6, 0), at(40, 1)], [125, 250, 250, 8000, 5000, 10000]);
});
