/**
 * scripts/setup.sh on a machine it already set up installs nothing: not with a pyenv python3
 * (without Debian's gi module) first on PATH, not with a non-root PATH that lacks /usr/sbin
 * (where Debian's mosquitto lives), and not Chromium unless asked (only the browser tests need
 * it). apt-get, sudo and npm are stubs that record their calls; the script runs on a copy of
 * the project so nothing here is installed or built. And npm prints no warning about an
 * unknown config key in this project.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const GI = `import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer`;
const debianReady =
  existsSync('/usr/sbin/mosquitto') &&
  existsSync('/usr/share/fonts/truetype/dejavu') &&
  spawnSync('ffmpeg', ['-version']).status === 0 &&
  spawnSync('/usr/bin/python3', ['-c', GI]).status === 0;

t.test('a second setup run installs nothing, with a foreign python3 first on PATH', { skip: debianReady ? false : 'needs a machine setup.sh already set up' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-setup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const proj = join(dir, 'proj');
  const stubs = join(dir, 'bin');
  const calls = join(dir, 'calls.log');
  mkdirSync(join(proj, 'scripts'), { recursive: true });
  mkdirSync(join(proj, 'node_modules'));
  mkdirSync(stubs);
  copyFileSync(join(ROOT, 'scripts/setup.sh'), join(proj, 'scripts/setup.sh'));
  copyFileSync(join(ROOT, 'package-lock.json'), join(proj, 'package-lock.json'));
  copyFileSync(join(ROOT, 'package-lock.json'), join(proj, 'node_modules/.anpr-lock-stamp'));
  for (const d of ['cli', 'cloud', 'edge', 'shared', 'web/src', 'bin']) mkdirSync(join(proj, d), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) writeFileSync(join(proj, f), '{}');
  mkdirSync(join(proj, 'dist'));
  writeFileSync(join(proj, 'dist/.built'), '');
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(proj, 'dist/.built'), later, later);

  const stub = (name: string, body: string) => {
    writeFileSync(join(stubs, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(stubs, name), 0o755);
  };
  for (const name of ['apt-get', 'sudo', 'npm']) stub(name, `echo "${name} $*" >> '${calls}'`);
  stub('python3', 'exit 1'); // pyenv's python3: no gi module
  for (const tool of ['ffmpeg', 'find', 'cmp', 'cp', 'id', 'dirname']) {
    const p = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (p) stub(tool, `exec ${p} "$@"`);
  }

  // A non-root user's PATH without /usr/sbin (where Debian's mosquitto lives) and without a
  // browser: only the stubs and the links to the tools that are installed.
  const run = (env: Record<string, string> = {}) =>
    spawnSync('/bin/bash', [join(proj, 'scripts/setup.sh')], { env: { PATH: stubs, HOME: dir, ...env }, encoding: 'utf8' });
  const logged = () => (existsSync(calls) ? readFileSync(calls, 'utf8') : '');
  const r = run();
  t.equal(r.status, 0, r.stderr);
  t.equal(logged(), '', 'no apt-get, no npm ci, no rebuild');

  // Chromium only when asked for (scripts/test.sh asks; the demo does not).
  const b = run({ ANPR_SETUP_BROWSER: '1' });
  t.equal(b.status, 0, b.stderr);
  t.match(logged(), /^(sudo )?apt-get install .*\bchromium\b/m, 'asked for: Chromium installed');
  t.notMatch(logged(), /mosquitto|python3-gi|ffmpeg|fonts-dejavu/, 'and nothing else');
});

t.test('npm prints no warning about an unknown config key in this project', async (t) => {
  const r = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, npm_config_offline: 'true' } });
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stderr, /Unknown (project|user|env) config/);
});
