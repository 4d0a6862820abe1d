/**
 * Where event images are kept: a local directory (the default, cloud/images/local-image-store.ts)
 * or an S3-compatible object store (cloud/images/s3-image-store.ts), chosen by `--images-url`
 * (cloud/images/open-image-store.ts). The ingest and image routes see only this interface.
 *
 * What every store guarantees:
 * - `save` resolves only once the image is durable (fsynced on disk; PutObject acknowledged):
 *   the ingest route commits the event's row after it, so a row never points at a missing image.
 * - Names are the server's (`YYYY/MM/DD/<event id>-<kind>-<8 hex>.<ext>`, relative to the store),
 *   never the client's; the same relative name means the same image in either store.
 * - A store that cannot write answers with a retryable 503 (nothing of the event is stored).
 * - A crash between an image's write and its row's commit leaves an orphan; `sweep` removes the
 *   images no stored event points to.
 */
import { randomBytes } from 'node:crypto';
import { AppError } from '../../shared/errors.js';

export type ImageKind = 'frame' | 'crop';

/** A stored image's file name: `<event id>-<kind>-<8 hex>.<ext>`. */
export const IMAGE_NAME = /^(.+)-(frame|crop)-[0-9a-f]{8}\.(jpg|png)$/;
/** The day directories above it: YYYY, MM, DD. */
export const DAY_PART = [/^\d{4}$/, /^\d{2}$/, /^\d{2}$/];

export function imageName(eventId: string, kind: ImageKind, ext: 'jpg' | 'png'): string {
  return `${eventId}-${kind}-${randomBytes(4).toString('hex')}.${ext}`;
}

/** YYYY/MM/DD of the event's time (UTC), as path parts. */
export function dayParts(when: Date): string[] {
  return when.toISOString().slice(0, 10).split('-');
}

/** The end (ms, exclusive) of the UTC day a `dayParts` folder names, or NaN when it names none. */
export function dayEndMs(parts: readonly string[]): number {
  if (parts.length !== 3 || !parts.every((p, i) => DAY_PART[i]!.test(p))) return NaN;
  return Date.UTC(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]) + 1);
}

export const mimeOf = (rel: string): 'image/png' | 'image/jpeg' => (rel.endsWith('.png') ? 'image/png' : 'image/jpeg');

/** Detects JPEG or PNG by magic bytes; anything else is refused. */
export function imageType(buf: Uint8Array): 'jpg' | 'png' | null {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpg';
  if (buf.length >= 8 && Buffer.from(buf.subarray(0, 8)).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  return null;
}

/** Checks an upload against the store's limit; throws a 400/413 naming the field. */
export function checkImage(field: ImageKind, buf: Uint8Array, maxBytes: number): 'jpg' | 'png' {
  if (buf.length > maxBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `${field} image exceeds ${maxBytes} bytes`, {
      errors: [{ field, message: `${field}: image larger than ${maxBytes} bytes` }],
    });
  }
  const t = imageType(buf);
  if (!t) {
    throw new AppError('VALIDATION_ERROR', 'Invalid event data', { errors: [{ field, message: `${field}: must be a JPEG or PNG image` }] });
  }
  return t;
}

export interface SweepResult {
  /** Images (and leftovers) removed: no stored event points to them. */
  removed: string[];
  /** Images kept (each belongs to a stored event, or is too recent to judge). */
  kept: number;
  /** Entries left alone because this store did not name them. */
  unknown: string[];
}

export interface StoredImage {
  body: ReadableStream<Uint8Array>;
  size: number;
  type: 'image/jpeg' | 'image/png';
}

export interface StorageProbe {
  ok: boolean;
  error?: string;
  details?: Record<string, unknown>;
}

export interface ImageStore {
  readonly backend: 'local' | 's3';
  /** Largest image accepted, bytes. */
  readonly maxBytes: number;
  /** Where the images are (a directory, or s3://bucket/prefix), for logs and health; no credentials. */
  readonly location: string;
  /**
   * True when `sweep` must run before the service accepts ingests (an image being written would
   * look orphaned); false when it only removes what is old enough never to be in flight, and
   * can run beside ingest (and other replicas).
   */
  readonly sweepsBeforeListening: boolean;
  /** Stores an image durably; returns its name relative to the store. */
  save(eventId: string, kind: ImageKind, buf: Uint8Array, ext: 'jpg' | 'png', when: Date): Promise<string>;
  /** The stored image, or null when there is none under that name. */
  open(rel: string): Promise<StoredImage | null>;
  remove(rel: string): Promise<void>;
  /** Removes images for which `owned(eventId, rel)` is false (see `sweepsBeforeListening`). */
  sweep(owned: (eventId: string, rel: string) => Promise<boolean>): Promise<SweepResult>;
  /**
   * Removes every image of the UTC days that ended at or before `cutoffMs` (retention: their
   * events were dropped); returns how many images were removed. Entries it did not name stay.
   */
  removeDaysBefore(cutoffMs: number): Promise<number>;
  /** Whether the store can be written now (for /healthz). */
  probe(detailed: boolean): Promise<StorageProbe>;
  close?(): void;
}
