/**
 * The test run prints no coverage figure: with tsx's whitespace-minified transform, node-tap
 * counted each .ts file as one statement and printed 100 %, a false figure (DEVELOPERS.md says
 * why coverage is off). A real run of the runner on one small test file proves it.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

t.test('npm test reports no coverage percentage', async (t) => {
  const tap = createRequire(import.meta.url).resolve('tap/package.json').replace(/package\.json$/, 'dist/esm/run.mjs');
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TAP') || k.startsWith('_TAPJS')) delete env[k];
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [tap, 'test/shared/plate/plate.test.ts'], { cwd: ROOT, env, encoding: 'utf8' });
  const out = r.stdout + r.stderr;
  if (!t.equal(r.status, 0, 'the runner exits 0')) t.comment(out.slice(-1500));
  t.match(out, /pass: \d+/, 'the file ran');
  t.notMatch(out, /Statements\s*:|Lines\s*:|Coverage summary|\d+(\.\d+)?\s*%/, 'no coverage figure');
});
