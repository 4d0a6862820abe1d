/**
 * Authentication and roles. Users present a JWT (`Authorization: Bearer`, HS256 only — the
 * algorithm is pinned so a token cannot choose its own); edges present an API key in
 * `X-API-Key`. On the WebSocket, browsers cannot set headers, so `?token=` / `?api_key=`
 * are accepted there only.
 *
 * Guarantees, checked on every request (and again on open streams, cloud/stream/hub.ts):
 * - An access token must carry `exp`; one without it is refused.
 * - It carries the user's `ver` (users.token_version): a password reset or disabling raises
 *   the version, so every token issued before stops working at once.
 * - A web session's token carries `sid`, its refresh-token family: signing out (or a detected
 *   refresh-token reuse) revokes the family, and with it the access token.
 * - The user is read from the database each time: a disabled, deleted or re-roled user is
 *   seen as such at the next request.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { sign, verify } from 'hono/jwt';
import { AppError } from '../../shared/errors.js';
import type { ApiKeysStore, RefreshTokenStore, UsersStore } from '../store/contracts.js';
import { ROLE_RANK, type Role, type User } from './users-store.js';
import type { Env, Principal } from '../http/types.js';

export const JWT_ALG = 'HS256' as const;

/**
 * The HMAC key of a secret, imported once: importing it for every request cost the loaded
 * cloud about a tenth of its main-thread time (bench/healthz-under-load.ts, CPU profile).
 */
const verifyKeys = new Map<string, Promise<CryptoKey>>();
function verifyKeyOf(secret: string): Promise<CryptoKey> {
  let key = verifyKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    if (verifyKeys.size >= 8) verifyKeys.clear(); // one secret per service; tests start many
    verifyKeys.set(secret, key);
  }
  return key;
}

export interface AuthDeps {
  jwtSecret: string;
  apiKeys: ApiKeysStore;
  users: UsersStore;
  refreshTokens: RefreshTokenStore;
}

/** The claims of an access token, as issued and as required. */
export interface AccessClaims {
  sub: string;
  role: Role;
  iat: number;
  exp: number;
  typ: 'access';
  /** users.token_version when issued. */
  ver: number;
  /** The refresh-token family of a web session (absent for POST /auth/token). */
  sid?: string;
}

/** Signs an access token for `user`, bound to its token version and, for sessions, its family. */
export async function issueToken(secret: string, user: Pick<User, 'username' | 'role' | 'token_version'>, ttlS: number, sid?: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: AccessClaims = { sub: user.username, role: user.role, iat: now, exp: now + ttlS, typ: 'access', ver: user.token_version, ...(sid ? { sid } : {}) };
  return sign({ ...claims }, secret, JWT_ALG);
}

/** The user these (signature-checked) claims still authenticate, or why they no longer do. */
async function holder(deps: AuthDeps, claims: AccessClaims, nowMs: number): Promise<User | string> {
  if (nowMs >= claims.exp * 1000) return 'token expired';
  const user = await deps.users.get(claims.sub);
  if (!user || user.disabled) return 'user disabled';
  if (user.token_version !== claims.ver) return 'credentials changed';
  if (claims.sid !== undefined && !(await deps.refreshTokens.familyActive(claims.sid))) return 'signed out';
  return user;
}

/**
 * Why these (signature-checked) claims no longer authenticate, or null while they do.
 * Used by open streams, which must close when their credentials end.
 */
export async function accessRevoked(deps: AuthDeps, claims: AccessClaims, nowMs = Date.now()): Promise<string | null> {
  const h = await holder(deps, claims, nowMs);
  return typeof h === 'string' ? h : null;
}

/** Verifies signature, algorithm, the required claims and that they still hold; 401 otherwise. */
export async function verifyAccessToken(deps: AuthDeps, token: string): Promise<{ claims: AccessClaims; user: User }> {
  const invalid = () => new AppError('AUTHENTICATION_FAILED', 'Invalid or expired token');
  let payload: Record<string, unknown>;
  try {
    payload = (await verify(token, await verifyKeyOf(deps.jwtSecret), JWT_ALG)) as Record<string, unknown>;
  } catch {
    throw invalid();
  }
  // hono checks exp only when present: a token without one would never expire.
  if (payload.typ !== 'access' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number' || !Number.isInteger(payload.ver)) throw invalid();
  if (payload.sid !== undefined && typeof payload.sid !== 'string') throw invalid();
  const claims = payload as unknown as AccessClaims;
  const user = await holder(deps, claims, Date.now());
  if (typeof user === 'string') throw invalid();
  return { claims, user };
}

/** An authenticated caller and how to ask, later, whether its credentials still hold. */
export interface Authenticated {
  principal: Principal;
  /** Why the credentials no longer hold (expired, revoked, signed out), or null. */
  revoked(): Promise<string | null>;
}

async function fromJwt(deps: AuthDeps, token: string): Promise<Authenticated> {
  const { claims, user } = await verifyAccessToken(deps, token);
  // The role is the stored one: it may have changed since the token was issued.
  return { principal: { kind: 'user', username: user.username, role: user.role }, revoked: () => accessRevoked(deps, claims) };
}

async function fromKey(deps: AuthDeps, key: string): Promise<Authenticated> {
  const info = await deps.apiKeys.verify(key);
  if (!info) throw new AppError('AUTHENTICATION_FAILED', 'Invalid API key');
  return { principal: { kind: 'edge', keyId: info.id, name: info.name, edgeId: info.edge_id }, revoked: async () => ((await deps.apiKeys.isActive(info.id)) ? null : 'API key revoked') };
}

export interface AuthOptions {
  /** Accept edge API keys (ingest, the stream, config reads). */
  apiKey?: boolean;
  /** Accept credentials in the query string (WebSocket only). */
  query?: boolean;
}

/** Resolves the caller (with a re-check for long-lived connections) or answers 401. */
export async function authenticateWithRecheck(deps: AuthDeps, c: Context, opts: AuthOptions): Promise<Authenticated> {
  const auth = c.req.header('authorization');
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (!m) throw new AppError('AUTHENTICATION_FAILED', 'Authorization header must be: Bearer <token>');
    return fromJwt(deps, m[1]!);
  }
  const key = c.req.header('x-api-key');
  if (key !== undefined) {
    if (!opts.apiKey) throw new AppError('AUTHENTICATION_FAILED', 'API keys are not accepted here; sign in with POST /auth/token');
    return fromKey(deps, key);
  }
  if (opts.query) {
    const token = c.req.query('token');
    if (token) return fromJwt(deps, token);
    const qkey = c.req.query('api_key');
    if (qkey && opts.apiKey) return fromKey(deps, qkey);
  }
  throw new AppError('AUTHENTICATION_FAILED', 'Not authenticated');
}

/** Resolves the caller or answers 401 `Not authenticated`. */
export async function authenticate(deps: AuthDeps, c: Context, opts: AuthOptions): Promise<Principal> {
  return (await authenticateWithRecheck(deps, c, opts)).principal;
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
