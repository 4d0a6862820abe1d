/** POST /auth/token: username + password → a short-lived JWT. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';
import { z } from '../../shared/schemas/common.js';
import type { CloudContext } from '../context.js';
import { issueToken } from '../auth/middleware.js';
import { DUMMY_HASH_PROMISE, verifyPassword } from '../auth/passwords.js';
import type { User } from '../auth/users-store.js';
import { validate, readJson } from '../http/errors.js';
import { rateLimit } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';

export const TokenRequest = z
  .object({ username: z.string().min(1).max(128), password: z.string().min(1).max(1024) })
  .strict()
  .openapi('TokenRequest');
export const TokenResponse = z
  .object({ access_token: z.string(), token_type: z.literal('bearer'), expires_in: z.number().int() })
  .openapi('TokenResponse');

/** The user whose credentials these are, or 401 `Invalid credentials` (for /auth/token and /auth/login). */
export async function checkCredentials(ctx: CloudContext, creds: { username: string; password: string }, ip: string): Promise<User> {
  const user = ctx.users.get(creds.username);
  // Same work whether or not the user exists: no user enumeration by timing.
  const ok = await verifyPassword(creds.password, user?.password_hash ?? (await DUMMY_HASH_PROMISE));
  if (!user || !ok || user.disabled) {
    ctx.log.warn({ username: creds.username, ip }, 'sign-in failed');
    throw new AppError('AUTHENTICATION_FAILED', 'Invalid credentials');
  }
  return user;
}

export function registerAuthRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, clientIp: (c: Context) => string): void {
  app.post('/auth/token', rateLimit(ctx.limiter, 'auth', clientIp), async (c) => {
    const user = await checkCredentials(ctx, validate(TokenRequest, await readJson(c)), clientIp(c));
    const token = await issueToken(ctx.jwtSecret, user.username, user.role, ctx.tokenTtlS);
    return c.json({ access_token: token, token_type: 'bearer' as const, expires_in: ctx.tokenTtlS });
  });
  doc(app, 'post', '/auth/token', { tag: 'Auth', summary: 'Sign in: returns a JWT', auth: [], body: TokenRequest, response: TokenResponse, errors: [400, 401, 429] });
}
