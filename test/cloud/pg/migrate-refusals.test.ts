/**
 * `anpr cloud migrate` (cloud/store/pg/migrate-from-sqlite.ts) refuses, before it writes anything:
 * a wrong URL, a missing data dir, a data dir a cloud runs on, a target a cloud is connected to or
 * that holds another cloud's or application's data, a second run at once, a target being filled
 * from another data dir, and a source that changed since its copy began; and a cloud refuses to
 * start on a copy that has not finished.
 */
import t from 'tap';
import { join } from 'node:path';
import { openCloudData, startCloud } from '../../../cloud/server.js';
import { ANPR_LOCK_SPACE } from '../../../cloud/db/pg/partitions.js';
import { importSqliteCloud } from '../../../cloud/store/pg/migrate-from-sqlite.js';
import { IMPORT_LOCK_ID } from '../../../cloud/store/pg/sqlite-import-state.js';
import { silentLogger } from '../../../shared/log.js';
import { startPostgresCluster } from '../../fixtures/postgres.js';
import { seedCloudEvents } from '../../fixtures/seed-events.js';
import { ADMIN_PASSWORD } from '../helpers.js';
import { dump, poolOf, tablesIn, tempDir } from './import-helpers.js';

const cluster = await startPostgresCluster(t);

t.test('bad settings are refused before anything is written', async (t) => {
  const dir = tempDir(t);
  await seedCloudEvents(dir, 30);
  const empty = await cluster.createDatabase();
  const pool = poolOf(t, empty);

  await t.rejects(importSqliteCloud({ from: dir, to: 'mysql://u:p@127.0.0.1/db' }), { code: 'CONFIG_INVALID', message: /--to.*postgres:\/\/ or postgresql:\/\/, not mysql:\/\// }, 'a wrong scheme names --to');
  await t.rejects(importSqliteCloud({ from: dir, to: cluster.url('no_such_db') }), { code: 'CONFIG_INVALID', message: /--to.*does not exist/ }, 'a database that does not exist');
  await t.rejects(importSqliteCloud({ from: join(dir, 'typo'), to: empty }), { code: 'RESOURCE_NOT_FOUND', message: /no cloud data in .*typo.*--from/ }, 'a missing data dir names --from');

  const running = await startCloud({ port: 0, dataDir: dir, logger: silentLogger, env: { ANPR_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  await t.rejects(importSqliteCloud({ from: dir, to: empty }), { code: 'SERVICE_UNAVAILABLE', message: /anpr\.db \(--from\) is in use: stop the cloud/ }, 'a data dir a cloud runs on');
  await running.close();
  t.same(await tablesIn(pool), [], 'nothing written to the target by any of these');

  // A database a PostgreSQL cloud has run on (its admin user, its secret): not this source's.
  const used = await cluster.createDatabase();
  const other = await startCloud({ port: 0, dataDir: tempDir(t), databaseUrl: used, logger: silentLogger, env: { ANPR_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  const usedPool = poolOf(t, used);
  const usedTables = await tablesIn(usedPool);
  await t.rejects(importSqliteCloud({ from: dir, to: used }), { code: 'CONFIG_INVALID', message: /An anpr cloud is connected to .*\(--to\) \(\d+ connections\): stop every cloud/ }, 'while the cloud runs');
  await other.close();
  await t.rejects(importSqliteCloud({ from: dir, to: used }), { code: 'CONFIG_INVALID', message: /\(--to\) already holds data that did not come from .*anpr\.db \(--from\), in .*users/ });
  t.same(await tablesIn(usedPool), usedTables, 'no table added');
  const foreign = await cluster.createDatabase();
  const foreignPool = poolOf(t, foreign);
  await foreignPool.query('CREATE TABLE invoices (id int)');
  await t.rejects(importSqliteCloud({ from: dir, to: foreign }), { code: 'CONFIG_INVALID', message: /holds tables that are not an anpr cloud's \(invoices\)/ });
  t.same(await tablesIn(foreignPool), ['invoices'], 'another application\'s database is left alone');

  // A copy begun from one data dir: a second run at once, another data dir, a changed source, a cloud start are refused.
  t.equal((await importSqliteCloud({ from: dir, to: empty, batchSize: 10, stopAfterBatches: 2 })).state, 'interrupted');
  const holder = await pool.connect();
  const pid = (await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
  await holder.query('SELECT pg_advisory_lock($1, $2)', [ANPR_LOCK_SPACE, IMPORT_LOCK_ID]);
  await t.rejects(importSqliteCloud({ from: dir, to: empty }), { code: 'SERVICE_UNAVAILABLE', message: new RegExp(`Another \`anpr cloud migrate\` is copying into .* now \\(server process ${pid}, idle\\).*pg_terminate_backend\\(${pid}\\)`) }, 'one run at a time');
  holder.release(true);
  const second = tempDir(t);
  await seedCloudEvents(second, 5);
  await t.rejects(importSqliteCloud({ from: second, to: empty }), { code: 'CONFIG_INVALID', message: /being filled from another SQLite database, .*anpr\.db, not .*anpr\.db \(--from\)/ });
  await t.rejects(startCloud({ port: 0, dataDir: dir, databaseUrl: empty, logger: silentLogger }), { code: 'CONFIG_INVALID', message: /is being filled from the SQLite database .* that copy has not finished/ }, 'a cloud does not start on a half copy');
  const half = await dump(pool);
  const admin = openCloudData(dir); // as `anpr apikey create` does: another API key
  await admin.apiKeys.create('edge-009');
  admin.db.close();
  await t.rejects(importSqliteCloud({ from: dir, to: empty }), { code: 'CONFIG_INVALID', message: /changed since this copy began \(edges 0 then, 1 now; api_keys 0 then, 1 now\): a cloud or an `anpr` command wrote to it in between/ }, 'the source changed in between');
  t.same(await dump(pool), half, 'and nothing more was copied');
});
