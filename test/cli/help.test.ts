import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readdir } from 'node:fs/promises';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/anpr.js', import.meta.url));

t.test('anpr --help lists every command and each prints its own help', async (t) => {
  const { stdout } = await run(process.execPath, [bin, '--help']);
  t.match(stdout, /Usage: anpr <command>/);
  const names = (await readdir(fileURLToPath(new URL('../../cli/commands/', import.meta.url)))).filter((f) => f.endsWith('.ts'));
  for (const f of names) {
    const name = f.replace(/\.ts$/, '');
    t.match(stdout, new RegExp(`\\n  ${name}\\s`), `${name} listed`);
    const sub = await run(process.execPath, [bin, name, '--help']);
    t.match(sub.stdout, new RegExp(`Usage: anpr ${name}`), `${name} --help`);
  }
});

t.test('unknown command exits 2 with usage on stderr', async (t) => {
  const err = await run(process.execPath, [bin, 'no-such-command']).catch((e) => e);
  t.equal(err.code, 2);
  t.match(err.stderr, /unknown command 'no-such-command'/);
});
