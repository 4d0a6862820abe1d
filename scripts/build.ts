/**
 * Compiles the project for production: `npm run build`.
 *
 *   dist/{cli,cloud,edge,shared}/   the TypeScript compiled to JavaScript (tsconfig.build.json),
 *                                   with the non-TypeScript files beside them (worker-boot.js,
 *                                   rtsp-server.py)
 *   dist/{bin,models,web,package.json}  links to the checkout's, so every path a module reaches
 *                                   as `../../models/...` from its source file reaches the same
 *                                   file from dist/
 *   dist/.built                     written last; bin/anpr.js runs dist/ while no source file is
 *                                   newer than it
 *   web/dist/                       the back-office app (scripts/build-web.ts)
 *
 * Run at install (scripts/setup.sh, scripts/install-systemd.sh), never by a running service.
 * The new dist/ replaces the old one in one rename.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWeb } from './build-web.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');
/** Folders compiled into dist/ (tsconfig.build.json includes the same). */
export const COMPILED = ['cli', 'cloud', 'edge', 'shared'];
/** What compiled modules reach by relative path and is used as it is. */
const LINKED = ['bin', 'models', 'web', 'package.json'];

/** Copies the files tsc does not emit (plain JavaScript, Python), keeping the tree's layout. */
function copyAssets(from: string, to: string): void {
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    if (e.isDirectory()) copyAssets(src, dst);
    else if (/\.(js|py|json)$/.test(e.name)) {
      mkdirSync(to, { recursive: true });
      copyFileSync(src, dst);
    }
  }
}

export function buildDist(): void {
  const tmp = join(ROOT, `.dist-${randomBytes(4).toString('hex')}`);
  try {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', tmp], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`tsc failed (exit ${r.status ?? r.signal})`);
    for (const dir of COMPILED) copyAssets(join(ROOT, dir), join(tmp, dir));
    for (const name of LINKED) symlinkSync(join('..', name), join(tmp, name));
    writeFileSync(join(tmp, '.built'), `${new Date().toISOString()}\n`);
    const old = `${DIST}.old-${randomBytes(4).toString('hex')}`;
    if (existsSync(DIST)) renameSync(DIST, old);
    renameSync(tmp, DIST);
    rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  try {
    buildDist();
    const web = await buildWeb();
    console.log(`built dist/ and web/dist (${web.js}, ${web.css}) in ${Date.now() - t0} ms`);
  } catch (e) {
    console.error(`build failed: ${(e as Error).message}`);
    process.exit(1);
  }
}
