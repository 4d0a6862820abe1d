/**
 * Users administration (admins only): list, create, change role, disable, reset password.
 * The last active admin can be neither demoted nor disabled, so the service cannot be
 * locked out of its own administration. Disabling or a new password ends the user's
 * sign-ins (refresh tokens), raises the token version so every access token issued before
 * stops at its next request, and closes the user's open streams (4401).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';
import { z } from '../../shared/schemas/common.js';
import type { CloudContext } from '../context.js';
import { requireAuth, requireRole } from '../auth/middleware.js';
import { notFound, validate, readJson } from '../http/errors.js';
import { rateLimit } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';

const Role = z.enum(['viewer', 'operator', 'admin']).describe('viewer: read; operator: + correct plates; admin: + config, keys, users');
const Username = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'must be 1-64 characters of letters, digits, . _ @ - and start with a letter or digit');
const Password = z.string().min(8, 'must be at least 8 characters').max(1024);

export const UserOut = z.object({ username: z.string(), role: Role, disabled: z.boolean(), created_at: z.string() }).openapi('User');
export const UserCreate = z.object({ username: Username, password: Password, role: Role.default('viewer') }).strict().openapi('UserCreate');
export const UserPatch = z
  .object({ role: Role.optional(), disabled: z.boolean().optional(), password: Password.optional() })
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'give at least one of role, disabled, password')
  .openapi('UserPatch');

const out = (u: { username: string; role: string; disabled: number; created_at: string }) => ({
  username: u.username,
  role: u.role,
  disabled: !!u.disabled,
  created_at: u.created_at,
});

export function registerUserRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, clientIp: (c: Context) => string): void {
  const admin = [requireAuth(ctx), requireRole('admin'), rateLimit(ctx.limiter, 'config', clientIp)] as const;

  app.get('/users', ...admin, async (c) => {
    const items = (await ctx.users.list()).map(out);
    return c.json({ items, total: items.length });
  });
  doc(app, 'get', '/users', { tag: 'Users', summary: 'List users (admin)', response: z.object({ items: z.array(UserOut), total: z.number().int() }).openapi('UserList'), errors: [401, 403, 429] });

  app.post('/users', ...admin, async (c) => {
    const body = validate(UserCreate, await readJson(c));
    await ctx.users.create(body.username, body.password, body.role);
    ctx.log.info({ username: body.username, role: body.role, by: (c.get('principal') as { username: string }).username }, 'user created');
    return c.json(out((await ctx.users.get(body.username))!), 201);
  });
  doc(app, 'post', '/users', { tag: 'Users', summary: 'Create a user (admin)', body: UserCreate, status: 201, response: UserOut, errors: [400, 401, 403, 409, 429] });

  app.patch('/users/:username', ...admin, async (c) => {
    const username = c.req.param('username');
    const patch = validate(UserPatch, await readJson(c));
    // One transaction: two admins demoted at once can never leave none.
    const user = await ctx.users.change(username, { role: patch.role, disabled: patch.disabled, password: patch.password });
    if (user === 'not-found') throw notFound('User');
    if (user === 'last-admin') {
      throw new AppError('VALIDATION_ERROR', 'Validation error', {
        errors: [{ field: patch.disabled ? 'disabled' : 'role', message: 'the last active admin cannot be demoted or disabled' }],
      });
    }
    if (patch.disabled || patch.password !== undefined) {
      await ctx.refreshTokens.revokeUser(username);
      await ctx.hub.recheck();
    }
    ctx.log.info({ username, role: patch.role, disabled: patch.disabled, password_changed: patch.password !== undefined, by: (c.get('principal') as { username: string }).username }, 'user changed');
    return c.json(out(user));
  });
  doc(app, 'patch', '/users/:username', {
    tag: 'Users',
    summary: 'Change a user: role, disabled, password (admin)',
    params: z.object({ username: z.string() }),
    body: UserPatch,
    response: UserOut,
    errors: [400, 401, 403, 404, 429],
  });
}
