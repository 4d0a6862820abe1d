/**
 * `WS /events/stream`: accepted events, live, filtered by camera_id / zone_id. Credentials
 * come in the query (`token` or `api_key`) or headers; each API key may hold at most
 * `maxStreamsPerKey` connections (the contract: one per edge). A stream is closed with
 * 4401 and a reason when its credentials end (cloud/stream/hub.ts).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { upgradeWebSocket } from '@hono/node-server';
import type { WebSocket } from 'ws';
import { AppError } from '../../shared/errors.js';
import { StreamQuery } from '../../shared/schemas/queries.js';
import type { CloudContext } from '../context.js';
import { authenticateWithRecheck } from '../auth/middleware.js';
import { validateQuery } from '../http/errors.js';
import type { Env } from '../http/types.js';
import type { Subscriber } from '../stream/hub.js';
import { doc } from '../http/docs.js';

export function registerStreamRoutes(app: OpenAPIHono<Env>, ctx: CloudContext): void {
  app.get('/events/stream', async (c) => {
    const q = validateQuery(StreamQuery, c);
    const auth = await authenticateWithRecheck(ctx, c, { apiKey: true, query: true });
    const p = auth.principal;
    const who = p.kind === 'edge' ? `key:${p.keyId}` : `user:${p.username}`;
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new AppError('INVALID_REQUEST', 'This endpoint needs a WebSocket upgrade', { status: 426 });
    }
    if (p.kind === 'edge' && ctx.hub.count(who) >= ctx.maxStreamsPerKey) {
      throw new AppError('RATE_LIMIT_EXCEEDED', `At most ${ctx.maxStreamsPerKey} stream connection(s) per API key`, { status: 429 });
    }
    let sub: Subscriber | undefined;
    const res = await upgradeWebSocket(c, {
      onOpen(_evt, ws) {
        const raw = ws.raw as WebSocket;
        sub = {
          who,
          revoked: auth.revoked,
          cameraId: q.camera_id,
          zoneId: q.zone_id,
          // An edge's key streams only its own edge's events.
          ...(p.kind === 'edge' ? { edgeId: p.edgeId } : {}),
          buffered: () => raw.bufferedAmount,
          send: (d) => raw.send(d),
          close: (code, reason) => {
            raw.close(code, reason);
            // A peer that stopped reading may never complete the close handshake.
            setTimeout(() => raw.terminate(), 2000).unref();
          },
        };
        ctx.hub.add(sub);
        ctx.log.debug({ who, camera_id: q.camera_id, zone_id: q.zone_id }, 'stream subscriber connected');
      },
      onClose() {
        if (sub) ctx.hub.remove(sub);
      },
      onError() {
        if (sub) ctx.hub.remove(sub);
      },
    });
    return res ?? c.text('upgrade failed', 500);
  });
  doc(app, 'get', '/events/stream', {
    tag: 'Events',
    summary:
      'WebSocket: live events as {"type":"event","data":Event}; filters camera_id, zone_id; auth by ?token= or ?api_key=. Closed with code 4401 and a reason (token expired, signed out, credentials changed, user disabled, API key revoked) when the credentials end: get new ones, then reconnect',
    auth: ['jwt', 'apiKey'],
    query: StreamQuery,
    status: 101,
    errors: [400, 401, 426, 429],
  });
}
