import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../../cloud/db/open.js';

t.test('openDb: WAL, synchronous FULL by default, NORMAL only when asked, anything else refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-db-'));
  const saved = process.env.ANPR_SQLITE_SYNC;
  t.teardown(() => {
    if (saved === undefined) delete process.env.ANPR_SQLITE_SYNC;
    else process.env.ANPR_SQLITE_SYNC = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  delete process.env.ANPR_SQLITE_SYNC;
  const a = openDb(join(dir, 'a.db'));
  t.equal(a.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(a.pragma('synchronous', { simple: true }), 2, 'FULL');
  t.equal(a.pragma('busy_timeout', { simple: true }), 5000);
  t.equal(a.pragma('user_version', { simple: true }) as number > 0, true, 'migrated');
  a.close();
  process.env.ANPR_SQLITE_SYNC = 'normal';
  const b = openDb(join(dir, 'b.db'));
  t.equal(b.pragma('synchronous', { simple: true }), 1, 'NORMAL');
  b.close();
  process.env.ANPR_SQLITE_SYNC = 'off';
  t.throws(() => openDb(join(dir, 'c.db')), { code: 'CONFIG_INVALID' });
});
