/**
 * Sessions for people (the web app): `POST /auth/login` returns a short-lived access token
 * and a refresh token; `POST /auth/refresh` rotates the refresh token (cloud/auth/
 * refresh-tokens.ts: single use, reuse revokes the family); `POST /auth/logout` ends the
 * sign-in; `GET /auth/me` says who the caller is.
 *
 * The refresh token comes back in the body (API clients) and in an HttpOnly, SameSite=Strict
 * cookie scoped to /auth (browsers: scripts never see it). Cookie-borne refreshes must be
 * JSON requests, which a cross-site form cannot send without a CORS preflight.
 *
 * A session's access tokens carry its refresh family (`sid`): sign-out ends them too, and
 * the streams opened with them close (4401). Sign-in is throttled like /auth/token (`auth`
 * limit per address, backoff per account); refresh and sign-out have their own per-address
 * limit (`session`), so failed sign-ins cannot starve them.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { AppError } from '../../shared/errors.js';
import { z } from '../../shared/schemas/common.js';
import type { CloudContext } from '../context.js';
import { issueToken, requireAuth, verifyAccessToken } from '../auth/middleware.js';
import type { User } from '../auth/users-store.js';
import { validate, readJson } from '../http/errors.js';
import { rateLimit } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';
import { TokenRequest, answerLocked, checkCredentials } from './auth.js';

export const REFRESH_COOKIE = 'anpr_refresh';

export const SessionTokens = z
  .object({
    access_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int(),
    refresh_token: z.string(),
    refresh_expires_in: z.number().int(),
    user: z.object({ username: z.string(), role: z.enum(['viewer', 'operator', 'admin']) }),
  })
  .openapi('SessionTokens');

export const RefreshRequest = z
  .object({ refresh_token: z.string().min(1).max(256).optional().openapi({ description: 'Omit to use the anpr_refresh cookie' }) })
  .strict()
  .openapi('RefreshRequest');

export const Me = z
  .object({ username: z.string(), role: z.enum(['viewer', 'operator', 'admin']), disabled: z.boolean(), created_at: z.string() })
  .openapi('Me');

async function jsonOrEmpty(c: Context): Promise<unknown> {
  const ct = (c.req.header('content-type') ?? '').toLowerCase();
  if (!ct.startsWith('application/json')) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
  }
  if ((await c.req.text()).trim() === '') return {};
  return readJson(c);
}

export function registerAuthRefreshRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, peerIp: (c: Context) => string): void {
  const clientIp = ctx.trustedProxies.resolver(peerIp);
  const authLimit = rateLimit(ctx.limiter, 'auth', clientIp);
  const sessionLimit = rateLimit(ctx.limiter, 'session', clientIp);
  const refreshTtlS = Math.floor(ctx.refreshTokens.ttlMs / 1000);

  const session = async (c: Context<Env>, user: User, refresh: { token: string; familyId: string }) => {
    const { username, role } = user;
    setCookie(c, REFRESH_COOKIE, refresh.token, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/auth',
      maxAge: refreshTtlS,
      secure: new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https',
    });
    c.header('cache-control', 'no-store');
    return c.json({
      access_token: await issueToken(ctx.jwtSecret, user, ctx.tokenTtlS, refresh.familyId),
      token_type: 'bearer' as const,
      expires_in: ctx.tokenTtlS,
      refresh_token: refresh.token,
      refresh_expires_in: refreshTtlS,
      user: { username, role },
    });
  };

  app.post('/auth/login', authLimit, (c) =>
    answerLocked(c, async () => {
      const user = await checkCredentials(ctx, validate(TokenRequest, await jsonOrEmpty(c)), clientIp(c));
      return session(c, user, await ctx.refreshTokens.issue(user.username));
    }),
  );
  doc(app, 'post', '/auth/login', {
    tag: 'Auth',
    summary: 'Sign in for a session: access token + refresh token (also set as an HttpOnly cookie); 429 + Retry-After while the address or the account is throttled',
    auth: [],
    body: TokenRequest,
    response: SessionTokens,
    errors: [400, 401, 415, 429],
  });

  app.post('/auth/refresh', sessionLimit, async (c) => {
    const body = validate(RefreshRequest, await jsonOrEmpty(c));
    const token = body.refresh_token ?? getCookie(c, REFRESH_COOKIE);
    if (!token) throw new AppError('AUTHENTICATION_FAILED', 'No refresh token');
    let rotated;
    try {
      rotated = await ctx.refreshTokens.rotate(token);
    } catch (e) {
      if (e instanceof AppError && /reuse/.test(e.message)) ctx.log.warn({ ip: clientIp(c) }, 'refresh token reuse: sign-in revoked');
      deleteCookie(c, REFRESH_COOKIE, { path: '/auth' });
      throw e;
    }
    const user = await ctx.users.get(rotated.username);
    if (!user || user.disabled) {
      await ctx.refreshTokens.revokeFamily(rotated.familyId);
      deleteCookie(c, REFRESH_COOKIE, { path: '/auth' });
      throw new AppError('AUTHENTICATION_FAILED', 'Invalid or expired refresh token');
    }
    return session(c, user, { ...rotated.next, familyId: rotated.familyId });
  });
  doc(app, 'post', '/auth/refresh', {
    tag: 'Auth',
    summary: 'Rotate a refresh token: new access + refresh token; a reused refresh token ends the whole sign-in',
    auth: [],
    body: RefreshRequest,
    response: SessionTokens,
    errors: [400, 401, 415, 429],
  });

  app.post('/auth/logout', sessionLimit, async (c) => {
    const body = validate(RefreshRequest, await jsonOrEmpty(c));
    const token = body.refresh_token ?? getCookie(c, REFRESH_COOKIE);
    let ended = token ? await ctx.refreshTokens.revokeByToken(token) !== null : false;
    // A client that lost its refresh token still ends its session with the access token.
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (bearer) {
      const sid = (await verifyAccessToken(ctx, bearer).catch(() => null))?.claims.sid;
      if (sid) {
        await ctx.refreshTokens.revokeFamily(sid);
        ended = true;
      }
    }
    // Streams opened with this session's access tokens close now, not at the next re-check.
    if (ended) await ctx.hub.recheck();
    deleteCookie(c, REFRESH_COOKIE, { path: '/auth' });
    return c.body(null, 204);
  });
  doc(app, 'post', '/auth/logout', {
    tag: 'Auth',
    summary: 'Sign out: revokes the refresh token and its rotations, and the access tokens issued with them (also by Authorization: Bearer)',
    auth: [],
    body: RefreshRequest,
    status: 204,
    errors: [400, 415, 429],
  });

  app.get('/auth/me', requireAuth(ctx), async (c) => {
    const p = c.get('principal');
    if (p.kind !== 'user') throw new AppError('FORBIDDEN', 'Only users have a profile');
    const u = (await ctx.users.get(p.username))!;
    return c.json({ username: u.username, role: u.role, disabled: !!u.disabled, created_at: u.created_at });
  });
  doc(app, 'get', '/auth/me', { tag: 'Auth', summary: 'The signed-in user', response: Me, errors: [401] });
}
