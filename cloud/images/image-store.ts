/**
 * Event images on disk under `<data dir>/images/YYYY/MM/DD/`. File names are derived by the
 * server (event id + kind + random suffix), never taken from the client. Each file is
 * written to a temporary name, fsynced and renamed, so a crash never leaves half an image
 * under a name the database points to.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { AppError } from '../../shared/errors.js';

export type ImageKind = 'frame' | 'crop';

/** Detects JPEG or PNG by magic bytes; anything else is refused. */
export function imageType(buf: Uint8Array): 'jpg' | 'png' | null {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpg';
  if (buf.length >= 8 && Buffer.from(buf.subarray(0, 8)).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  return null;
}

export class ImageStore {
  readonly root: string;
  readonly maxBytes: number;

  constructor(dataDir: string, maxBytes: number) {
    this.root = resolve(dataDir, 'images');
    this.maxBytes = maxBytes;
    mkdirSync(this.root, { recursive: true });
  }

  /** Checks an upload; throws a 400/413 naming the field. */
  check(field: ImageKind, buf: Uint8Array): 'jpg' | 'png' {
    if (buf.length > this.maxBytes) {
      throw new AppError('PAYLOAD_TOO_LARGE', `${field} image exceeds ${this.maxBytes} bytes`, {
        errors: [{ field, message: `${field}: image larger than ${this.maxBytes} bytes` }],
      });
    }
    const t = imageType(buf);
    if (!t) {
      throw new AppError('VALIDATION_ERROR', 'Invalid event data', { errors: [{ field, message: `${field}: must be a JPEG or PNG image` }] });
    }
    return t;
  }

  /** Writes atomically; returns the path relative to the image root. */
  save(eventId: string, kind: ImageKind, buf: Uint8Array, ext: 'jpg' | 'png', when: Date): string {
    const day = when.toISOString().slice(0, 10).split('-');
    const rel = join(...day, `${eventId}-${kind}-${randomBytes(4).toString('hex')}.${ext}`);
    const abs = join(this.root, rel);
    mkdirSync(join(this.root, ...day), { recursive: true });
    const tmp = `${abs}.tmp`;
    const fd = openSync(tmp, 'w', 0o640);
    try {
      writeSync(fd, buf);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, abs);
    return rel;
  }

  /** Absolute path of a stored image; refuses anything outside the image root. */
  path(rel: string): string {
    const abs = resolve(this.root, rel);
    if (!abs.startsWith(this.root + sep)) throw new AppError('RESOURCE_NOT_FOUND', 'Image not found');
    return abs;
  }

  remove(rel: string): void {
    rmSync(this.path(rel), { force: true });
  }
}
