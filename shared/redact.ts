/**
 * Redaction of secrets: in free text (log messages, error texts), in URLs, and at any depth
 * of structured values (log fields, config resources shown to non-admins).
 *
 * Guarantees:
 * - `redactUrl`: the userinfo of every `scheme://` URL in a text becomes `***:***`. The
 *   userinfo ends at the last `@` before the host, as URL parsers read it, so a password
 *   holding `@` or `:` is hidden whole (`rtsp://u:Pa@ss@h` → `rtsp://***:***@h`). Query
 *   values of credential-like names (`password`, `token`, `key`, `secret`, `sig`, …) become
 *   `***`.
 * - `redactSecrets`: a copy of a value in which, at any depth, every string or number under a
 *   credential-like key is the mask, every `headers` object keeps only allowlisted header
 *   values (SAFE_HEADERS), and every string passes through `redactUrl`. The input is never
 *   modified; cycles and depth beyond MAX_DEPTH are cut, not followed.
 * - `maskedFields`: the fields of a request body that hold a mask rather than a value, so a
 *   client writing back what it was shown cannot replace a real secret with `********`.
 */

/** What a secret value is replaced with in API responses. */
export const SECRET_MASK = '********';
/** What a secret value is replaced with in logs. */
export const LOG_MASK = '[redacted]';
const URL_USERINFO_MASK = '***:***';
const QUERY_MASK = '***';

/** Key names (snake_case or camelCase, compared in snake_case) whose values are secrets. */
const SECRET_KEY = /(?:^|_)(?:password|passwd|passphrase|pass|pwd|secret|token|api_?key|key|auth|authorization|credentials?|signature|sig|cookie|set_cookie|session_?id|private_key)$/;

/** Header names whose values are not secrets; every other header value is masked for non-admins and in logs. */
export const SAFE_HEADERS = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'content-encoding',
  'content-language',
  'content-length',
  'content-type',
  'host',
  'origin',
  'user-agent',
  'x-request-id',
]);

const MAX_DEPTH = 16;

/** Whether a field or query parameter of this name holds a credential. */
export function isSecretKey(name: string): boolean {
  return SECRET_KEY.test(name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase());
}

// scheme:// then the authority, which ends at the first / ? # \ or whitespace; greedy, so the
// `@` matched is the last one in the authority. Then the rest of the URL up to whitespace.
const URL_IN_TEXT = /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#\\]*)([^\s]*)/gi;
const QUERY_PARAM = /([?&;])([^=&#;\s]+)=([^&#;\s"'<>]*)/g;

/** Masks credentials (userinfo, credential-like query values) in every URL found in a text. */
export function redactUrl(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (_m, scheme: string, authority: string, rest: string) => {
    const at = authority.lastIndexOf('@');
    const host = at >= 0 ? `${URL_USERINFO_MASK}@${authority.slice(at + 1)}` : authority;
    const tail = rest.replace(QUERY_PARAM, (p, sep: string, name: string, value: string) => {
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // a malformed escape: judge the name as written
      }
      return value !== '' && isSecretKey(decoded) ? `${sep}${name}=${QUERY_MASK}` : p;
    });
    return scheme + host + tail;
  });
}

const isPlain = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** A copy of `value` with every secret masked (see the guarantees above). */
export function redactSecrets<T>(value: T, mask = LOG_MASK, maxDepth = MAX_DEPTH): T {
  const seen = new WeakSet<object>();
  const walk = (v: unknown, key: string | undefined, depth: number): unknown => {
    if (typeof v === 'string') return key !== undefined && isSecretKey(key) && v !== '' ? mask : redactUrl(v);
    if (typeof v === 'number' || typeof v === 'bigint') return key !== undefined && isSecretKey(key) ? mask : v;
    if (typeof v !== 'object' || v === null) return v;
    if (!Array.isArray(v) && !isPlain(v)) return v; // Errors, Buffers, Dates: their serializers decide
    if (seen.has(v) || depth >= maxDepth) return '[…]';
    seen.add(v);
    let out: unknown;
    if (Array.isArray(v)) out = v.map((x) => walk(x, key, depth + 1));
    else if (key !== undefined && key.toLowerCase() === 'headers') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = SAFE_HEADERS.has(k.toLowerCase()) ? walk(x, k, depth + 1) : x === undefined || x === null || x === '' ? x : mask;
      out = o;
    } else {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = walk(x, k, depth + 1);
      out = o;
    }
    seen.delete(v);
    return out;
  };
  return walk(value, undefined, 0) as T;
}

/** Dotted paths of the strings in `value` that are (or contain) a redaction mask. */
export function maskedFields(value: unknown, path: string[] = [], out: string[] = []): string[] {
  if (typeof value === 'string') {
    const url = value.includes('://') && (value.includes(`${URL_USERINFO_MASK}@`) || new RegExp(`[?&;][^=&#;\\s]+=${QUERY_MASK.replace(/\*/g, '\\*')}(?:[&#;\\s]|$)`).test(value));
    if (value === SECRET_MASK || value === LOG_MASK || url) out.push(path.join('.') || '(body)');
  } else if (Array.isArray(value)) value.forEach((x, i) => maskedFields(x, [...path, String(i)], out));
  else if (isPlain(value)) for (const [k, x] of Object.entries(value)) maskedFields(x, [...path, k], out);
  return out;
}
