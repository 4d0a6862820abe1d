/**
 * The back-office web app: `/` serves web/dist/index.html (no-cache) and `/assets/*` the
 * content-hashed bundles (cached for a year, immutable).
 *
 * Read-only: the service never builds or writes the app. `npm run build` (run by
 * scripts/setup.sh and the installer) writes web/dist ahead of time, so the service runs under
 * systemd's `ProtectSystem=strict` and needs no bundler. With no build, `/` answers 503 saying
 * which command to run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { CloudContext } from '../context.js';
import { errorBody } from '../http/errors.js';
import type { Env } from '../http/types.js';

/** web/dist of this checkout; from dist/cloud/routes the same path reaches it through dist/web (a link). */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
};

/** Only what the page needs: no third-party origin can be loaded or framed. */
const CSP = "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/** Reads a build file; `npm run build` in another process may be swapping web/dist this instant. */
async function readBuilt(...parts: string[]): Promise<Buffer> {
  for (let i = 0; ; i++) {
    try {
      return readFileSync(join(WEB_DIST, ...parts));
    } catch (e) {
      if (i >= 5 || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export function registerWebRoutes(app: OpenAPIHono<Env>, ctx: CloudContext): void {
  const cache = new Map<string, Buffer>();
  if (!existsSync(join(WEB_DIST, 'index.html'))) ctx.log.warn({ dir: WEB_DIST }, 'the web app is not built; run npm run build');

  app.get('/', async (c) => {
    let html: Buffer;
    try {
      html = await readBuilt('index.html');
    } catch {
      return c.json(errorBody(c, 'SERVICE_UNAVAILABLE', 'The web app is not built; run npm run build'), 503);
    }
    return c.html(html.toString('utf8'), 200, {
      'cache-control': 'no-cache',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
  });

  app.get('/assets/:file', async (c) => {
    const file = c.req.param('file');
    const m = /^[A-Za-z0-9_-]+-[A-Za-z0-9]{6,}\.([a-z0-9]+)$/.exec(file);
    const type = m && TYPES[m[1]!];
    if (!type) return c.notFound();
    let body = cache.get(file);
    if (!body) {
      try {
        body = await readBuilt('assets', file);
      } catch {
        return c.notFound();
      }
      cache.set(file, body);
    }
    return c.body(new Uint8Array(body), 200, {
      'content-type': type,
      'content-length': String(body.length),
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    });
  });
}
