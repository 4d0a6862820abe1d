/**
 * The compiled build runs as a production install does: a copy of the project, `npm run build`
 * in it, then node_modules cut down to what `npm ci --omit=dev` installs (every package the
 * lockfile marks dev left out: tsx, esbuild, typescript, tap...). From there `anpr --version`
 * and `anpr apikey create` answer, and `anpr cloud` serves /healthz, the web app from web/dist
 * without rebuilding it (its sources are made newer than the build), and ingests an event
 * through its writer worker thread. Any import of tsx or esbuild would fail: they are absent.
 */
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ingest, seedEvent } from './cloud/web/fixtures/seed.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const COPIED = ['bin', 'cli', 'cloud', 'edge', 'shared', 'scripts', 'models', 'web', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

/** The environment of a production unit: no loader inherited from the test runner. */
function prodEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  delete env.ANPR_FROM;
  return env;
}

/** node_modules as `npm ci --omit=dev` leaves it: links to every top-level package the lockfile does not mark dev. */
function prodNodeModules(dir: string): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const real = join(ROOT, 'node_modules');
  mkdirSync(dir);
  const left: string[] = [];
  const keep = (name: string) => {
    const p = lock.packages[`node_modules/${name}`];
    if (!p || p.dev) return left.push(name), false;
    return true;
  };
  for (const e of readdirSync(real)) {
    if (e.startsWith('.')) continue;
    if (e.startsWith('@')) {
      mkdirSync(join(dir, e));
      for (const s of readdirSync(join(real, e))) if (keep(`${e}/${s}`)) symlinkSync(join(real, e, s), join(dir, e, s));
    } else if (keep(e)) symlinkSync(join(real, e), join(dir, e));
  }
  return left;
}

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const p = join(e.parentPath, e.name);
      return `${p.slice(dir.length)} ${statSync(p).size} ${statSync(p).mtimeMs}`;
    })
    .sort();
}

/** Resolves with the URL once the cloud logs that it listens; rejects if it exits first. */
function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*cloud service listening/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (c: Buffer) => (out += c));
    child.once('exit', (code) => reject(new Error(`the cloud exited (${code}): ${out.slice(-800)}`)));
  });
}

t.test('the built dist/ runs without tsx or esbuild installed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-dist-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const p of COPIED) cpSync(join(ROOT, p), join(dir, p), { recursive: true, filter: (s) => !/\/(models\/cache|web\/dist|web\/\.dist-[^/]*)$/.test(s) });

  // Build with the dev dependencies, as scripts/setup.sh does.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const build = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: dir, env: prodEnv(), encoding: 'utf8' });
  t.equal(build.status, 0, `npm run build: ${build.stdout}${build.stderr}`);
  t.ok(existsSync(join(dir, 'dist/cli/main.js')) && existsSync(join(dir, 'dist/shared/worker-boot.js')), 'compiled code and the worker boot in dist/');
  t.ok(existsSync(join(dir, 'web/dist/index.html')), 'the web app built');

  // Then the production install: no dev dependency.
  rmSync(join(dir, 'node_modules'));
  const left = prodNodeModules(join(dir, 'node_modules'));
  t.ok(['tsx', 'esbuild', 'typescript'].every((p) => left.includes(p)), 'tsx, esbuild and typescript left out');
  // Sources edited after the build: a service that rebuilt on request would try (and need esbuild).
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(dir, 'web/src/main.ts'), later, later);
  const webBefore = listing(join(dir, 'web/dist'));

  const version = spawnSync(process.execPath, ['bin/anpr.js', '--version'], { cwd: dir, env: prodEnv(), encoding: 'utf8' });
  t.equal(version.status, 0, version.stderr);
  t.equal(version.stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version, 'anpr --version');

  const data = join(dir, 'data');
  const cloud = spawn(process.execPath, ['bin/anpr.js', 'cloud', '--host', '127.0.0.1', '--port', '0', '--data-dir', data], {
    cwd: dir,
    env: prodEnv({ ANPR_LOG_LEVEL: 'info', ANPR_ADMIN_USER: 'admin', ANPR_ADMIN_PASSWORD: 'dist-admin-pass' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => cloud.once('exit', r));
  t.teardown(async () => {
    if (cloud.exitCode === null) cloud.kill('SIGTERM');
    await exited;
  });
  const url = await listening(cloud);
  const key = spawnSync(process.execPath, ['bin/anpr.js', 'apikey', 'create', 'gate-1', '--data-dir', data], { cwd: dir, env: prodEnv(), encoding: 'utf8' });
  t.equal(key.status, 0, key.stderr);
  const apiKey = key.stdout.trim().split('\n').pop()!.trim();

  t.equal((await fetch(`${url}/healthz`)).status, 200, '/healthz');
  const index = await fetch(`${url}/`);
  t.equal(index.status, 200, 'the web app');
  const asset = /src="(\/assets\/app-[A-Za-z0-9]+\.js)"/.exec(await index.text())?.[1];
  t.ok(asset, 'the page names its bundle');
  t.equal((await fetch(`${url}${asset}`)).status, 200, 'its bundle is served');

  // The event writer is a worker thread: it must start from dist/ too.
  const e = seedEvent(1, Date.now() - 60_000);
  await ingest(url, apiKey, e);
  const login = await fetch(`${url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'dist-admin-pass' }) });
  t.equal(login.status, 200);
  const { access_token } = (await login.json()) as { access_token: string };
  const got = await fetch(`${url}/events`, { headers: { authorization: `Bearer ${access_token}` } });
  t.equal(got.status, 200);
  t.match(await got.text(), e.id, 'the ingested event is stored');

  t.same(listing(join(dir, 'web/dist')), webBefore, 'web/dist untouched: served read-only, never rebuilt');
  cloud.kill('SIGTERM');
  t.equal(await exited, 0, 'the cloud stops cleanly');
});
