/**
 * `anpr cloud migrate --from DATA_DIR --to URL`: a SQLite cloud into PostgreSQL
 * (cloud/store/pg/migrate-from-sqlite.ts). A subcommand of `anpr cloud` (cli/commands/cloud.ts).
 * Progress goes to stderr; the counts and the images note to stdout. Exit 0 when every count
 * matched, 1 when one did not (or on an error), 130 when stopped by Ctrl-C (run it again).
 */
import type { Command } from './command.js';
import { int, str } from './command.js';
import { AppError } from '../shared/errors.js';

const command: Command = {
  name: 'migrate',
  summary: 'Move a SQLite cloud (its data dir) into PostgreSQL; resumable, verified by counts',
  options: {
    from: { type: 'string', description: 'The SQLite cloud\'s data dir (holding anpr.db)', arg: 'DATA_DIR' },
    to: { type: 'string', description: 'The PostgreSQL database, postgres://USER:PASS@HOST:PORT/DB (else ANPR_DATABASE_URL)', arg: 'URL' },
    'batch-size': { type: 'string', default: '5000', description: 'Rows per transaction', arg: 'N' },
  },
  details: [
    'Stop the cloud first (systemctl stop anpr-cloud): a data dir in use is refused, and the file',
    'stays locked until the copy ends. The target must be empty (createdb), or hold a copy of this',
    'same data dir begun earlier: interrupted (Ctrl-C, a crash, a lost connection), the same command',
    'continues where it stopped. At the end it prints each table\'s rows in SQLite and in PostgreSQL',
    'and exits 1 if any differ; a cloud refuses to start on the database until they all match.',
    'Then start it with --database-url URL --data-dir DATA_DIR: images stay in DATA_DIR/images (or',
    'copy that tree to an object store for --images-url s3://…: the relative names are the same).',
  ].join('\n'),
  async run(p) {
    const from = str(p, 'from');
    const toFlag = str(p, 'to');
    const to = toFlag ?? (process.env.ANPR_DATABASE_URL || undefined);
    if (!from) throw new AppError('INVALID_REQUEST', '--from DATA_DIR is required: the data dir of the SQLite cloud');
    if (!to) throw new AppError('INVALID_REQUEST', '--to URL (or ANPR_DATABASE_URL) is required: the PostgreSQL database to fill');
    const { importSqliteCloud } = await import('../cloud/store/pg/migrate-from-sqlite.js');
    const stop = new AbortController();
    // The first Ctrl-C stops after the batch being written (it is kept); a second one ends at once.
    const onSigint = () => {
      process.stderr.write('Stopping after the current batch (Ctrl-C again to stop at once)…\n');
      stop.abort(new AppError('SERVICE_UNAVAILABLE', 'stopped by Ctrl-C'));
    };
    process.once('SIGINT', onSigint);
    try {
      const r = await importSqliteCloud({
        from,
        to,
        toSetting: toFlag !== undefined ? '--to' : 'ANPR_DATABASE_URL',
        batchSize: int(p, 'batch-size', 1, 100_000),
        signal: stop.signal,
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      if (r.state === 'interrupted') {
        process.stderr.write('Stopped: what was copied is kept. Run the same command again to continue.\n');
        return 130;
      }
      const w = Math.max(5, ...r.counts.map((c) => c.table.length));
      const lines = [`${'table'.padEnd(w)}  ${'sqlite'.padStart(12)}  ${'postgresql'.padStart(12)}`];
      for (const c of r.counts) {
        lines.push(`${c.table.padEnd(w)}  ${String(c.sqlite).padStart(12)}  ${String(c.postgres).padStart(12)}${c.sqlite === c.postgres ? '' : '  DIFFERENT'}`);
      }
      lines.push('');
      if (r.state === 'finished') {
        lines.push(`Done: every table of ${r.source} is in ${r.target}.`);
        lines.push(`Images are not in the database: ${r.imagesDir} stays where it is. Start the cloud with`);
        lines.push(`--database-url and the same --data-dir, or copy that tree to an object store and give --images-url s3://…`);
        lines.push('(the relative names are the same in both stores).');
      } else {
        lines.push(`Counts differ: ${r.target} is not a complete copy, and a cloud refuses to start on it.`);
        lines.push('Run the same command again; if they still differ, migrate into a new, empty database.');
      }
      process.stdout.write(`${lines.join('\n')}\n`);
      return r.state === 'finished' ? 0 : 1;
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  },
};
export default command;
