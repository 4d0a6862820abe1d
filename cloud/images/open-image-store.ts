/**
 * The image store a setting names (`--images-url` / ANPR_IMAGES_URL):
 * - unset: `<data dir>/images` (the default);
 * - a directory (`/srv/anpr/images` or `file:///srv/anpr/images`): that directory;
 * - `s3://BUCKET/PREFIX`: an S3-compatible store, with ANPR_S3_ENDPOINT (MinIO and other
 *   non-AWS stores; path-style), AWS_REGION, and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
 *   (+ AWS_SESSION_TOKEN), or, without those, the SDK's default chain (an instance role…).
 * A wrong setting is a CONFIG_INVALID error that names it; the SDK is loaded only for S3.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../shared/errors.js';
import type { ImageStore } from './image-store.js';
import { LocalImageStore } from './local-image-store.js';
import type { S3Settings } from './s3-image-store.js';

export type ImagesLocation = { kind: 'local'; root: string } | { kind: 's3'; settings: S3Settings };

const bad = (why: string) => new AppError('CONFIG_INVALID', why);

/** Bucket names as S3 allows them (3-63 lower-case letters, digits, dots, hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses the settings; throws CONFIG_INVALID naming the one that is wrong. */
export function imagesLocation(setting: string | undefined, dataDir: string, env: NodeJS.ProcessEnv): ImagesLocation {
  if (!setting) return { kind: 'local', root: join(dataDir, 'images') };
  if (setting.startsWith('/')) return { kind: 'local', root: resolve(setting) };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(setting)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    try {
      return { kind: 'local', root: fileURLToPath(setting) };
    } catch (e) {
      throw bad(`images URL '${setting}': ${(e as Error).message} (ANPR_IMAGES_URL / --images-url)`);
    }
  }
  if (scheme !== 's3') {
    throw bad(`images URL '${setting}': use s3://BUCKET/PREFIX or an absolute directory (ANPR_IMAGES_URL / --images-url)`);
  }
  const m = /^s3:\/\/([^/?#]+)(?:\/([^?#]*))?$/i.exec(setting);
  if (!m || !BUCKET.test(m[1]!)) {
    throw bad(`images URL '${setting}': expected s3://BUCKET/PREFIX with a valid bucket name (ANPR_IMAGES_URL / --images-url)`);
  }
  const rawPrefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (rawPrefix.split('/').some((p) => p === '.' || p === '..') || /[\u0000-\u001f\u007f\\]/.test(rawPrefix)) {
    throw bad(`images URL '${setting}': the prefix must be plain path segments (ANPR_IMAGES_URL / --images-url)`);
  }
  let endpoint: string | undefined;
  if (env.ANPR_S3_ENDPOINT) {
    let u: URL;
    try {
      u = new URL(env.ANPR_S3_ENDPOINT);
    } catch {
      throw bad(`ANPR_S3_ENDPOINT '${env.ANPR_S3_ENDPOINT}' is not a URL (expected e.g. http://127.0.0.1:9000)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad('ANPR_S3_ENDPOINT must be http:// or https://');
    if (u.username || u.password) throw bad('ANPR_S3_ENDPOINT must not carry credentials: use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    endpoint = u.origin + u.pathname.replace(/\/+$/, '');
  }
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || (endpoint ? 'us-east-1' : undefined);
  if (!region) throw bad('AWS_REGION is required for an s3:// images URL on AWS (the bucket\'s region, e.g. eu-central-1)');
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (!!id !== !!secret) throw bad(`${id ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'} is missing: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (the SDK's default chain)`);
  return {
    kind: 's3',
    settings: {
      bucket: m[1]!,
      prefix: rawPrefix ? `${rawPrefix}/` : '',
      endpoint,
      region,
      ...(id && secret ? { credentials: { accessKeyId: id, secretAccessKey: secret, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } } : {}),
    },
  };
}

/**
 * Opens the store. An S3 store is checked once (HeadBucket): a refused configuration throws; a
 * store that does not answer yet is reported through `warn` and the service starts anyway.
 */
export async function openImageStore(loc: ImagesLocation, maxBytes: number, warn: (msg: string) => void): Promise<ImageStore> {
  if (loc.kind === 'local') return new LocalImageStore(loc.root, maxBytes);
  const { S3ImageStore } = await import('./s3-image-store.js');
  const store = new S3ImageStore(loc.settings, maxBytes);
  try {
    const warning = await store.verify();
    if (warning) warn(warning);
  } catch (e) {
    store.close();
    throw e;
  }
  return store;
}
