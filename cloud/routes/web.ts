/**
 * The back-office web app: `/` serves web/dist/index.html (no-cache) and `/assets/*` the
 * content-hashed bundles (cached for a year, immutable). When the build is missing or older
 * than its sources, the first request builds it (scripts/build-web.ts), so `npm ci && anpr
 * cloud` works without a separate step; `npm run build:web` does it ahead of time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { CloudContext } from '../context.js';
import { errorBody } from '../http/errors.js';
import type { Env } from '../http/types.js';
import { WEB_DIST, buildWeb, needsBuild } from '../../scripts/build-web.js';

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
};

/** Only what the page needs: no third-party origin can be loaded or framed. */
const CSP = "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/** Reads a build file; a build in another process may be swapping web/dist this instant. */
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
  let ready: Promise<void> | null = null;
  const cache = new Map<string, Buffer>();
  const ensureBuilt = () => {
    ready ??= (async () => {
      if (!needsBuild()) return;
      const t0 = Date.now();
      const r = await buildWeb();
      ctx.log.info({ js: r.js, css: r.css, ms: Date.now() - t0 }, 'web app built');
    })().catch((e) => {
      ready = null;
      throw e;
    });
    return ready;
  };

  const unavailable = (c: Context<Env>, e: unknown) => {
    ctx.log.error({ err: e }, 'web app build failed');
    if (existsSync(join(WEB_DIST, 'index.html'))) return null;
    return c.json(errorBody(c, 'SERVICE_UNAVAILABLE', 'The web app is not built; run npm run build:web'), 503);
  };

  app.get('/', async (c) => {
    try {
      await ensureBuilt();
    } catch (e) {
      const r = unavailable(c, e);
      if (r) return r;
    }
    return c.html((await readBuilt('index.html')).toString('utf8'), 200, {
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
    try {
      await ensureBuilt();
    } catch (e) {
      const r = unavailable(c, e);
      if (r) return r;
    }
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
