/**
 * Authentication and roles. Users present a JWT (`Authorization: Bearer`, HS256 only — the
 * algorithm is pinned so a token cannot choose its own); edges present an API key in
 * `X-API-Key`. On the WebSocket, browsers cannot set headers, so `?token=` / `?api_key=`
 * are accepted there only.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { sign, verify } from 'hono/jwt';
import { AppError } from '../../shared/errors.js';
import type { ApiKeysStore } from './api-keys.js';
import { ROLE_RANK, type Role, type UsersStore } from './users-store.js';
import type { Env, Principal } from '../http/types.js';

export const JWT_ALG = 'HS256' as const;

export interface AuthDeps {
  jwtSecret: string;
  apiKeys: ApiKeysStore;
  users: UsersStore;
}

export async function issueToken(secret: string, username: string, role: Role, ttlS: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub: username, role, iat: now, exp: now + ttlS, typ: 'access' }, secret, JWT_ALG);
}

async function principalFromJwt(deps: AuthDeps, token: string): Promise<Principal> {
  let payload: Record<string, unknown>;
  try {
    payload = (await verify(token, deps.jwtSecret, JWT_ALG)) as Record<string, unknown>;
  } catch {
    throw new AppError('AUTHENTICATION_FAILED', 'Invalid or expired token');
  }
  if (payload.typ !== 'access' || typeof payload.sub !== 'string') throw new AppError('AUTHENTICATION_FAILED', 'Invalid or expired token');
  // The account may have been disabled or its role changed since the token was issued.
  const user = deps.users.get(payload.sub);
  if (!user || user.disabled) throw new AppError('AUTHENTICATION_FAILED', 'Invalid or expired token');
  return { kind: 'user', username: user.username, role: user.role };
}

function principalFromKey(deps: AuthDeps, key: string): Principal {
  const info = deps.apiKeys.verify(key);
  if (!info) throw new AppError('AUTHENTICATION_FAILED', 'Invalid API key');
  return { kind: 'edge', keyId: info.id, name: info.name };
}

export interface AuthOptions {
  /** Accept edge API keys (ingest, the stream, config reads). */
  apiKey?: boolean;
  /** Accept credentials in the query string (WebSocket only). */
  query?: boolean;
}

/** Resolves the caller or answers 401 `Not authenticated`. */
export async function authenticate(deps: AuthDeps, c: Context, opts: AuthOptions): Promise<Principal> {
  const auth = c.req.header('authorization');
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (!m) throw new AppError('AUTHENTICATION_FAILED', 'Authorization header must be: Bearer <token>');
    return principalFromJwt(deps, m[1]!);
  }
  const key = c.req.header('x-api-key');
  if (key !== undefined) {
    if (!opts.apiKey) throw new AppError('AUTHENTICATION_FAILED', 'API keys are not accepted here; sign in with POST /auth/token');
    return principalFromKey(deps, key);
  }
  if (opts.query) {
    const token = c.req.query('token');
    if (token) return principalFromJwt(deps, token);
    const qkey = c.req.query('api_key');
    if (qkey && opts.apiKey) return principalFromKey(deps, qkey);
  }
  throw new AppError('AUTHENTICATION_FAILED', 'Not authenticated');
}

export function requireAuth(deps: AuthDeps, opts: AuthOptions = {}): MiddlewareHandler<Env> {
  return async (c, next) => {
    c.set('principal', await authenticate(deps, c, opts));
    await next();
  };
}

/** Users need at least `min`; edges pass only where `edgeAllowed`. */
export function requireRole(min: Role, edgeAllowed = false): MiddlewareHandler<Env> {
  return async (c, next) => {
    const p = c.get('principal');
    if (p.kind === 'edge' ? !edgeAllowed : ROLE_RANK[p.role] < ROLE_RANK[min]) {
      throw new AppError('FORBIDDEN', `This action needs the ${min} role`);
    }
    await next();
  };
}
