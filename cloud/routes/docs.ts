/**
 * `/openapi.json` generated from the schemas, and `/docs`: Swagger UI served from the
 * installed swagger-ui-dist package (no CDN).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { CloudContext } from '../context.js';
import type { Env } from '../http/types.js';

const require = createRequire(import.meta.url);
const uiDir = dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ANPR API reference</title><link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" href="/docs/assets/favicon-32x32.png"></head>
<body><div id="ui"></div><script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true, persistAuthorization: true });`;

export function registerDocsRoutes(app: OpenAPIHono<Env>, ctx: CloudContext): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'jwt', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', { type: 'apiKey', in: 'header', name: 'X-API-Key' });
  let cached: unknown;
  app.get('/openapi.json', (c) => {
    cached ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: { title: 'ANPR API', version: ctx.version, description: 'Cloud service of the ANPR appliance: events, config, health, live stream.' },
    });
    return c.json(cached);
  });
  app.get('/docs', (c) => c.html(PAGE, 200, { 'cache-control': 'no-cache' }));
  app.get('/docs/init.js', (c) => c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }));
  app.get('/docs/assets/:file', async (c) => {
    const file = c.req.param('file');
    // Own keys only: /docs/assets/constructor must not find Object.prototype.constructor.
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) return c.notFound();
    const body = await readFile(join(uiDir, file));
    return c.body(body, 200, { 'content-type': type, 'cache-control': 'public, max-age=86400' });
  });
}
