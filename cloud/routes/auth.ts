/**
 * POST /auth/token: username + password → a short-lived JWT. Sign-ins are throttled per
 * source address (the `auth` rate limit, behind trusted proxies the forwarded client) and
 * per account with backoff (cloud/auth/login-throttle.ts).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';
import { z } from '../../shared/schemas/common.js';
import type { CloudContext } from '../context.js';
import { issueToken } from '../auth/middleware.js';
import { DUMMY_HASH_PROMISE, hashPassword, needsRehash, verifyPassword } from '../auth/passwords.js';
import type { User } from '../auth/users-store.js';
import { validate, readJson } from '../http/errors.js';
import { rateLimit, tooManyRequests } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';

export const TokenRequest = z
  .object({ username: z.string().min(1).max(128), password: z.string().min(1).max(1024) })
  .strict()
  .openapi('TokenRequest');
export const TokenResponse = z
  .object({ access_token: z.string(), token_type: z.literal('bearer'), expires_in: z.number().int() })
  .openapi('TokenResponse');

/** Thrown while an account's sign-in is locked by the backoff; answered 429 with Retry-After. */
export class AccountLocked extends AppError {
  readonly retryAfterS: number;
  constructor(waitMs: number) {
    const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
    super('RATE_LIMIT_EXCEEDED', 'Too many failed sign-ins for this account; try again later', { extra: { retry_after_seconds: retryAfterS } });
    this.retryAfterS = retryAfterS;
  }
}

/**
 * The user whose credentials these are, or 401 `Invalid credentials` (for /auth/token and
 * /auth/login); AccountLocked while the account is throttled. A hash made with older scrypt
 * parameters is replaced by one with today's.
 */
export async function checkCredentials(ctx: CloudContext, creds: { username: string; password: string }, ip: string): Promise<User> {
  const wait = await ctx.loginThrottle.begin(creds.username, ip);
  if (wait > 0) {
    ctx.log.warn({ username: creds.username, ip, retry_after_ms: wait }, 'sign-in refused: account throttled');
    throw new AccountLocked(wait);
  }
  const user = await ctx.users.get(creds.username);
  // Same work whether or not the user exists: no user enumeration by timing.
  const ok = await verifyPassword(creds.password, user?.password_hash ?? (await DUMMY_HASH_PROMISE));
  if (!user || !ok || user.disabled) {
    ctx.log.warn({ username: creds.username, ip }, 'sign-in failed');
    throw new AppError('AUTHENTICATION_FAILED', 'Invalid credentials');
  }
  await ctx.loginThrottle.succeeded(creds.username, ip);
  if (needsRehash(user.password_hash)) {
    await ctx.users.rehash(user.username, await hashPassword(creds.password));
    ctx.log.info({ username: user.username }, 'password hash upgraded to the current scrypt cost');
  }
  return user;
}

/** Answers an AccountLocked like a rate limit (429 + Retry-After); anything else goes on. */
export async function answerLocked<T>(c: Context<Env>, run: () => Promise<T>): Promise<T | Response> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof AccountLocked) return tooManyRequests(c, e.message, e.retryAfterS);
    throw e;
  }
}

export function registerAuthRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, peerIp: (c: Context) => string): void {
  const clientIp = ctx.trustedProxies.resolver(peerIp);
  app.post('/auth/token', rateLimit(ctx.limiter, 'auth', clientIp), (c) =>
    answerLocked(c, async () => {
      const user = await checkCredentials(ctx, validate(TokenRequest, await readJson(c)), clientIp(c));
      const token = await issueToken(ctx.jwtSecret, user, ctx.tokenTtlS);
      return c.json({ access_token: token, token_type: 'bearer' as const, expires_in: ctx.tokenTtlS });
    }),
  );
  doc(app, 'post', '/auth/token', { tag: 'Auth', summary: 'Sign in: returns a JWT', auth: [], body: TokenRequest, response: TokenResponse, errors: [400, 401, 429] });
}
