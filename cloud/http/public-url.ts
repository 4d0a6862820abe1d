/**
 * The cloud's public base URL (`--public-url` / ANPR_PUBLIC_URL): the one origin (and optional
 * path prefix) the URLs it hands out are built on. Without it those URLs are relative paths.
 * The request's Host header is never used: a client could forge it and have the service hand
 * its URL to every stream subscriber.
 */
import { AppError } from '../../shared/errors.js';

/** `value` as a base URL without a trailing slash, or a CONFIG_INVALID error saying why not. */
export function parsePublicUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new AppError('CONFIG_INVALID', `public URL '${value}' is not a URL (expected e.g. https://anpr.example.com)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new AppError('CONFIG_INVALID', `public URL '${value}' must be http:// or https://`);
  if (u.username || u.password || u.search || u.hash) throw new AppError('CONFIG_INVALID', `public URL '${value}' must not carry credentials, a query or a fragment`);
  return `${u.origin}${u.pathname}`.replace(/\/+$/, '');
}
