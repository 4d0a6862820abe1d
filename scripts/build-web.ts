/**
 * Builds the back-office web app: web/src → web/dist (index.html + content-hashed assets).
 * esbuild bundles the TypeScript and the CSS; nothing is fetched from any network, and the
 * page needs no CDN or external font at run time.
 *
 *   npm run build:web          (part of `npm run build`; the test runner's `before` runs it when stale)
 *
 * Never run by the service, which serves web/dist read-only. The output replaces web/dist in one
 * rename, so a running service never serves half a build.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'web');
export const WEB_SRC = join(WEB_DIR, 'src');
export const WEB_DIST = join(WEB_DIR, 'dist');

/** Newest modification time of any source file (ms), to tell whether a build is stale. */
export function sourcesMtime(dir = WEB_SRC): number {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    max = Math.max(max, e.isDirectory() ? sourcesMtime(p) : statSync(p).mtimeMs);
  }
  return max;
}

/** True when web/dist is missing or older than a source file. */
export function needsBuild(): boolean {
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index)) return true;
  if (!existsSync(WEB_SRC)) return false;
  return sourcesMtime() > statSync(index).mtimeMs;
}

function page(js: string, css: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>ANPR back office</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/${css}">
<script type="module" src="/assets/${js}"></script>
</head>
<body><div id="app"></div><noscript>This application needs JavaScript.</noscript></body>
</html>
`;
}

export async function buildWeb(opts: { minify?: boolean } = {}): Promise<{ js: string; css: string; bytes: number }> {
  const esbuild = await import('esbuild');
  const tmp = join(WEB_DIR, `.dist-${randomBytes(4).toString('hex')}`);
  mkdirSync(join(tmp, 'assets'), { recursive: true });
  try {
    const r = await esbuild.build({
      entryPoints: { app: join(WEB_SRC, 'main.ts') },
      bundle: true,
      format: 'esm',
      target: ['es2022', 'chrome100', 'safari15', 'firefox100'],
      outdir: join(tmp, 'assets'),
      entryNames: '[name]-[hash]',
      assetNames: '[name]-[hash]',
      minify: opts.minify ?? true,
      sourcemap: false,
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
    });
    const outs = Object.keys(r.metafile.outputs).map((p) => basename(p));
    const js = outs.find((f) => f.endsWith('.js'));
    const css = outs.find((f) => f.endsWith('.css'));
    if (!js || !css) throw new Error(`build produced no ${js ? 'CSS' : 'JavaScript'}`);
    writeFileSync(join(tmp, 'index.html'), page(js, css));
    const bytes = Object.values(r.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
    // Swap in one rename; the old build goes away after.
    const old = `${WEB_DIST}.old-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(WEB_DIST, old);
    } catch {
      // no previous build (or another build moved it first)
    }
    try {
      renameSync(tmp, WEB_DIST);
    } catch (e) {
      // Another build finished first and its output is equally good.
      if (!existsSync(join(WEB_DIST, 'index.html'))) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
    rmSync(old, { recursive: true, force: true });
    return { js, css, bytes };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  buildWeb({ minify: !process.argv.includes('--no-minify') }).then(
    (r) => console.log(`web app built in ${Date.now() - t0} ms: web/dist/assets/${r.js}, ${r.css} (${Math.round(r.bytes / 1024)} KiB)`),
    (e) => {
      console.error(`build failed: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
