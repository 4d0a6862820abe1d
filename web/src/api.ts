/**
 * The API client: keeps the access token in memory only (the refresh token lives in an
 * HttpOnly cookie the page cannot read), refreshes it shortly before expiry or after a
 * 401, and serialises refreshes across tabs with a Web Lock so two tabs never present the
 * same single-use refresh token (which the server would treat as theft).
 */
export type Role = 'viewer' | 'operator' | 'admin';
export interface User {
  username: string;
  role: Role;
}

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldError[];
  constructor(status: number, code: string, detail: string, fields: FieldError[] = []) {
    super(detail);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

let access: string | null = null;
let expiresAt = 0;
let current: User | null = null;
const listeners = new Set<(u: User | null) => void>();

export const session = {
  get user(): User | null {
    return current;
  },
  can(min: Role): boolean {
    return !!current && RANK[current.role] >= RANK[min];
  },
  onChange(fn: (u: User | null) => void): void {
    listeners.add(fn);
  },
};

function setSession(b: { access_token: string; expires_in: number; user: User } | null): void {
  access = b?.access_token ?? null;
  expiresAt = b ? Date.now() + b.expires_in * 1000 : 0;
  const changed = (current?.username ?? null) !== (b?.user.username ?? null) || current?.role !== b?.user.role;
  current = b?.user ?? null;
  if (changed) for (const fn of listeners) fn(current);
}

async function errorFrom(r: Response): Promise<ApiError> {
  let body: { detail?: string; error_code?: string; errors?: FieldError[] } = {};
  try {
    body = await r.json();
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(r.status, body.error_code ?? 'HTTP_' + r.status, body.detail ?? r.statusText ?? 'Request failed', body.errors ?? []);
}

export async function login(username: string, password: string): Promise<User> {
  const r = await fetch('/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }), credentials: 'same-origin' });
  if (!r.ok) throw await errorFrom(r);
  const b = await r.json();
  setSession(b);
  return b.user;
}

let refreshing: Promise<boolean> | null = null;

/** Trades the refresh cookie for a new access token; false when the sign-in is over. */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    const run = async () => {
      for (let attempt = 0; ; attempt++) {
        const r = await fetch('/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', credentials: 'same-origin' });
        if (r.ok) {
          setSession(await r.json());
          return true;
        }
        // Throttled (429) says nothing about the sign-in: wait as told and try again.
        if (r.status === 429 && attempt < 3) {
          const s = Math.min(30, Math.max(1, Number(r.headers.get('retry-after')) || 1));
          await new Promise((res) => setTimeout(res, s * 1000));
          continue;
        }
        if (r.status === 401 || r.status === 400) setSession(null);
        return false;
      }
    };
    try {
      const locks = (navigator as Navigator & { locks?: { request(name: string, fn: () => Promise<boolean>): Promise<boolean> } }).locks;
      return locks ? await locks.request('anpr-refresh', run) : await run();
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export async function logout(): Promise<void> {
  try {
    await fetch('/auth/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', credentials: 'same-origin' });
  } finally {
    setSession(null);
  }
}

/** A valid access token, refreshed when it is about to expire; null when signed out. */
export async function token(): Promise<string | null> {
  if (access && Date.now() < expiresAt - 60_000) return access;
  if (await refresh()) return access;
  return null;
}

type Query = Record<string, string | number | boolean | undefined | null>;
export function qs(q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Calls the API with the session's token; retries once after a refresh on 401. */
export async function raw(method: string, path: string, opts: { json?: unknown; query?: Query; body?: BodyInit; headers?: Record<string, string> } = {}): Promise<Response> {
  const send = async (tok: string | null) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (tok) headers.authorization = `Bearer ${tok}`;
    let body = opts.body;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    return fetch(path + qs(opts.query), { method, headers, body, credentials: 'same-origin' });
  };
  let r = await send(await token());
  if (r.status === 401 && (await refresh())) r = await send(access);
  if (r.status === 401) setSession(null);
  if (!r.ok) throw await errorFrom(r);
  return r;
}

export async function api<T = any>(method: string, path: string, opts: Parameters<typeof raw>[2] = {}): Promise<T> {
  const r = await raw(method, path, opts);
  if (r.status === 204) return undefined as T;
  return (await r.json()) as T;
}

/** Object URLs made for the current page; revoked when the page changes. */
const pageBlobs = new Set<string>();

/** Fetches an image with the session's token (an <img> cannot send one) → object URL. */
export async function imageUrl(url: string, keep = false): Promise<string> {
  const r = await raw('GET', new URL(url, location.origin).pathname);
  const u = URL.createObjectURL(await r.blob());
  if (!keep) pageBlobs.add(u);
  return u;
}

export function revokePageImages(): void {
  for (const u of pageBlobs) URL.revokeObjectURL(u);
  pageBlobs.clear();
}

/** Saves a response body as a file download. */
export async function download(path: string, query: Query, fallbackName: string): Promise<void> {
  const r = await raw('GET', path, { query });
  const name = /filename="([^"]+)"/.exec(r.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const u = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = u;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(u), 10_000);
}
