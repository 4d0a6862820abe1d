/**
 * The PostgreSQL database URL (`anpr cloud --database-url` / ANPR_DATABASE_URL), checked before
 * anything connects.
 *
 * Guarantees:
 * - Accepted: `postgres://` or `postgresql://` URLs as libpq and node-postgres read them:
 *   `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=…`, a unix socket directory as the
 *   host (`postgres://USER@%2Frun%2Fpostgresql/DATABASE`) or as `?host=/run/postgresql`.
 * - Anything else is a CONFIG_INVALID error that names the setting and says what is wrong:
 *   another scheme (only the scheme is echoed), a text that does not parse as a URL, a
 *   malformed %-escape in the user, password or database name.
 * - No message carries the password: a URL that parses is shown through `redactUrl`
 *   (`postgres://***:***@host/db`); one that does not parse is never echoed at all.
 */
import { AppError } from '../../../shared/errors.js';
import { redactUrl } from '../../../shared/redact.js';

/** How the URL is given, named in every message about it. */
export const DATABASE_URL_SETTING = '--database-url / ANPR_DATABASE_URL';

export interface DatabaseUrl {
  /** The URL as given, for node-postgres (which parses it again the same way). */
  connectionString: string;
  /** The URL with its credentials masked: safe for logs and messages. */
  display: string;
  /** The database name ('' = node-postgres's default, the user name). */
  database: string;
  /** The host name ('' for a unix socket or node-postgres's default). */
  host: string;
}

const SCHEMES = new Set(['postgres', 'postgresql']);
const NO_HOST = 'no-host.invalid';

function decoded(part: string, what: string, setting: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new AppError('CONFIG_INVALID', `The ${what} in the database URL (${setting}) has a malformed %-escape`);
  }
}

function tryUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** Checks a database URL; throws CONFIG_INVALID naming `setting` (see the guarantees above). */
export function parseDatabaseUrl(url: string, setting = DATABASE_URL_SETTING): DatabaseUrl {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new AppError('CONFIG_INVALID', `The database URL (${setting}) is not a URL: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE`);
  }
  if (!SCHEMES.has(scheme)) {
    throw new AppError('CONFIG_INVALID', `The database URL (${setting}) must be postgres:// or postgresql://, not ${scheme}://`);
  }
  let u: URL;
  try {
    // As node-postgres reads it: an empty host before the path (`user:pw@/db?host=/run/postgresql`)
    // is valid for libpq but not for WHATWG URLs.
    u = tryUrl(url) ?? new URL(url.replace('@/', `@${NO_HOST}/`));
  } catch {
    // Not echoed: an unparsable URL cannot be masked reliably, and it may hold the password.
    throw new AppError('CONFIG_INVALID', `The database URL (${setting}) does not parse as a URL (a bad port, bracket or character in the host?): expected postgres://USER:PASSWORD@HOST:PORT/DATABASE`);
  }
  decoded(u.username, 'user', setting);
  decoded(u.password, 'password', setting);
  const database = decoded(u.pathname.replace(/^\//, ''), 'database name', setting);
  return { connectionString: url, display: redactUrl(url), database, host: u.hostname === NO_HOST ? '' : decoded(u.hostname, 'host', setting) };
}
