/**
 * Event images in an S3-compatible object store (AWS S3, MinIO, Ceph…): `--images-url
 * s3://BUCKET/PREFIX`, keys `PREFIX/YYYY/MM/DD/<event id>-<kind>-<8 hex>.<ext>` (the same
 * relative names as the local store, so a data set can move between them).
 *
 * Guarantees (beside those of image-store.ts):
 * - `save` resolves only once PutObject was acknowledged, with a Content-MD5 the store checks:
 *   the ingest route commits the event's row after it, so no row points at a missing object.
 * - Every request has a deadline (`timeoutMs`): a store that never answers is a 503 for that
 *   ingest, never a hung request. The SDK retries transient failures itself (3 attempts).
 * - A store that refuses or fails a write makes that ingest a retryable 503 with Retry-After;
 *   nothing of the event is stored.
 * - `sweep` removes only orphans older than `sweepMinAgeMs`: an image another request (or
 *   another replica) wrote and whose row is about to commit is never taken for an orphan, so
 *   the sweep runs beside ingest, after the service listens.
 * - Credentials never reach a log line, an error or /healthz.
 */
import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { AppError } from '../../shared/errors.js';
import { DAY_PART, IMAGE_NAME, dayEndMs, dayParts, imageName, mimeOf, type ImageKind, type ImageStore, type StorageProbe, type StoredImage, type SweepResult } from './image-store.js';

export interface S3Settings {
  bucket: string;
  /** Key prefix, '' or ending in '/'. */
  prefix: string;
  /** A non-AWS endpoint (MinIO, a test server): path-style addressing is used with it. */
  endpoint?: string;
  region: string;
  /** Static credentials; absent = the SDK's default chain (instance role, profile…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Deadline of one request, ms (default 10 s). */
  timeoutMs?: number;
  /** Orphans younger than this are left for a later sweep (default 15 min). */
  sweepMinAgeMs?: number;
}

/** Seconds a client is told to wait before retrying an ingest the image store refused. */
export const IMAGE_STORE_RETRY_AFTER_S = 5;

/** What went wrong with a request to the store, in words fit for a log or a client (no secrets). */
export function describeS3Error(e: unknown): { status?: number; text: string } {
  const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number }; cause?: { code?: string } };
  const status = err.$metadata?.httpStatusCode;
  const code = err.code ?? err.cause?.code;
  const name = err.name && err.name !== 'Error' && err.name !== 'Unknown' ? err.name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return { text: 'no answer in time' };
  const parts = [status ? `HTTP ${status}` : undefined, name, code].filter(Boolean);
  return { status, text: parts.length ? parts.join(' ') : (err.message ?? String(e)).slice(0, 200) };
}

export class S3ImageStore implements ImageStore {
  readonly backend = 's3' as const;
  readonly sweepsBeforeListening = false;
  readonly location: string;
  private readonly client: S3Client;
  private readonly timeoutMs: number;

  constructor(
    private readonly s: S3Settings,
    readonly maxBytes: number,
  ) {
    this.location = `s3://${s.bucket}/${s.prefix}`;
    this.timeoutMs = s.timeoutMs ?? 10_000;
    this.client = new S3Client({
      region: s.region,
      ...(s.endpoint ? { endpoint: s.endpoint, forcePathStyle: true } : {}),
      ...(s.credentials ? { credentials: s.credentials } : {}),
      // Checksums only where an operation requires them: the upload carries its own Content-MD5,
      // and S3-compatible stores do not all know the SDK's newer default (CRC32 trailers).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: Math.min(3_000, this.timeoutMs), requestTimeout: this.timeoutMs },
    });
  }

  private key(rel: string): string {
    return this.s.prefix + rel;
  }

  private deadline(): { abortSignal: AbortSignal } {
    return { abortSignal: AbortSignal.timeout(this.timeoutMs) };
  }

  /** A retryable 503 for a request the store failed; `stored`: whether the failure kept an ingest from storing anything. */
  private unavailable(what: string, e: unknown, stored = true): AppError {
    return new AppError('SERVICE_UNAVAILABLE', `The image store cannot ${what} now (${describeS3Error(e).text}); ${stored ? 'nothing was stored, ' : ''}retry later`, {
      extra: { retry_after_seconds: IMAGE_STORE_RETRY_AFTER_S },
    });
  }

  async save(eventId: string, kind: ImageKind, buf: Uint8Array, ext: 'jpg' | 'png', when: Date): Promise<string> {
    const rel = [...dayParts(when), imageName(eventId, kind, ext)].join('/');
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.s.bucket,
          Key: this.key(rel),
          Body: buf,
          ContentLength: buf.length,
          ContentType: mimeOf(rel),
          ContentMD5: createHash('md5').update(buf).digest('base64'),
        }),
        this.deadline(),
      );
    } catch (e) {
      throw this.unavailable('write', e);
    }
    return rel;
  }

  /** A name this store writes (YYYY/MM/DD/<image name>), or null. */
  private static parse(rel: string): { eventId: string } | null {
    const parts = rel.split('/');
    if (parts.length !== 4 || !DAY_PART.every((re, i) => re.test(parts[i]!))) return null;
    const m = IMAGE_NAME.exec(parts[3]!);
    return m ? { eventId: m[1]! } : null;
  }

  async open(rel: string): Promise<StoredImage | null> {
    if (!S3ImageStore.parse(rel)) return null;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.s.bucket, Key: this.key(rel) }), this.deadline());
      if (!r.Body) return null;
      return { body: r.Body.transformToWebStream() as ReadableStream<Uint8Array>, size: r.ContentLength ?? 0, type: mimeOf(rel) };
    } catch (e) {
      if (describeS3Error(e).status === 404) return null;
      throw this.unavailable('read', e, false);
    }
  }

  async remove(rel: string): Promise<void> {
    if (!S3ImageStore.parse(rel)) return;
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.s.bucket, Key: this.key(rel) }), this.deadline());
    } catch (e) {
      throw this.unavailable('remove an image', e);
    }
  }

  async removeDaysBefore(cutoffMs: number): Promise<number> {
    const doomed: string[] = [];
    for await (const { rel } of this.objects()) {
      if (S3ImageStore.parse(rel) && dayEndMs(rel.split('/').slice(0, 3)) <= cutoffMs) doomed.push(rel);
    }
    for (let i = 0; i < doomed.length; i += 16) await Promise.all(doomed.slice(i, i + 16).map((rel) => this.remove(rel)));
    return doomed.length;
  }

  /** Every object under the prefix, page by page, with its path below the prefix. */
  private async *objects(): AsyncGenerator<{ rel: string; lastModified?: Date }> {
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.s.bucket, Prefix: this.s.prefix || undefined, ContinuationToken: token, MaxKeys: 1000 }),
        this.deadline(),
      );
      for (const o of page.Contents ?? []) yield { rel: (o.Key ?? '').slice(this.s.prefix.length), lastModified: o.LastModified };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async sweep(owned: (eventId: string, rel: string) => Promise<boolean>): Promise<SweepResult> {
    const res: SweepResult = { removed: [], kept: 0, unknown: [] };
    const minAge = this.s.sweepMinAgeMs ?? 15 * 60_000;
    const doomed: string[] = [];
    for await (const { rel, lastModified } of this.objects()) {
      const name = S3ImageStore.parse(rel);
      if (!name) res.unknown.push(rel);
      // "Now" per object, so a long sweep does not judge late pages by its start.
      else if ((await owned(name.eventId, rel)) || !lastModified || Date.now() - lastModified.getTime() < minAge) res.kept++;
      else doomed.push(rel);
    }
    for (let i = 0; i < doomed.length; i += 16) {
      const batch = doomed.slice(i, i + 16);
      await Promise.all(batch.map((rel) => this.remove(rel)));
      res.removed.push(...batch);
    }
    return res;
  }

  async probe(detailed: boolean): Promise<StorageProbe> {
    const details = { backend: 's3', bucket: this.s.bucket, prefix: this.s.prefix, region: this.s.region, ...(this.s.endpoint ? { endpoint: this.s.endpoint } : {}) };
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.s.bucket }), { abortSignal: AbortSignal.timeout(Math.min(3_000, this.timeoutMs)) });
      return { ok: true, ...(detailed ? { details: { ...details, accessible: true } } : {}) };
    } catch (e) {
      return { ok: false, error: `bucket ${this.s.bucket}: ${describeS3Error(e).text}`, ...(detailed ? { details: { ...details, accessible: false } } : {}) };
    }
  }

  /**
   * Checked once at start: a bucket that does not exist, credentials the store refuses or a wrong
   * region is a configuration error naming the setting (throws CONFIG_INVALID); a store that does
   * not answer is returned as a warning (the service starts, /healthz says 503 until it answers).
   */
  async verify(): Promise<string | null> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.s.bucket }), this.deadline());
      return null;
    } catch (e) {
      const { status, text } = describeS3Error(e);
      const where = this.s.endpoint ? ` at ${this.s.endpoint} (ANPR_S3_ENDPOINT)` : '';
      if (status === 403 || status === 401) {
        throw new AppError('CONFIG_INVALID', `the image store refused the credentials for bucket ${this.s.bucket}${where} (${text}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
      }
      if (status === 404) throw new AppError('CONFIG_INVALID', `bucket ${this.s.bucket} does not exist${where}: check ANPR_IMAGES_URL (--images-url)`);
      if (status === 301 || status === 400) throw new AppError('CONFIG_INVALID', `bucket ${this.s.bucket} is not reachable in region ${this.s.region} (${text}): check AWS_REGION`);
      return `the image store${where || ` (bucket ${this.s.bucket})`} does not answer (${text}); images cannot be stored until it does`;
    }
  }

  close(): void {
    this.client.destroy();
  }
}
