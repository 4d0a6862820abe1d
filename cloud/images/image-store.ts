/**
 * Event images on disk under `<data dir>/images/YYYY/MM/DD/`. File names are derived by the
 * server (event id + kind + random suffix), never taken from the client.
 *
 * Guarantees:
 * - Power cut: `save` resolves only once the image is on disk under its final name: it is
 *   written to `<name>.tmp`, fsynced, renamed, and the directory is fsynced (as are the
 *   parents of any day directory it created). The ingest route commits the event's row
 *   only after that, so a row never points at a missing or partial file.
 * - Nothing here blocks the event loop: writes, fsyncs and renames run on libuv's pool.
 * - A crash (kill -9, power cut) between an image's write and its row's commit leaves an
 *   orphan file (or a `.tmp`): `sweep`, run at startup before the service listens, removes
 *   every `.tmp`, every leftover health probe, and every image no stored event points to.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { AppError } from '../../shared/errors.js';

export type ImageKind = 'frame' | 'crop';

/** Detects JPEG or PNG by magic bytes; anything else is refused. */
export function imageType(buf: Uint8Array): 'jpg' | 'png' | null {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpg';
  if (buf.length >= 8 && Buffer.from(buf.subarray(0, 8)).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  return null;
}

/** A stored image's file name: `<event id>-<kind>-<8 hex>.<ext>`. */
const IMAGE_NAME = /^(.+)-(frame|crop)-[0-9a-f]{8}\.(jpg|png)$/;
const DAY_PART = [/^\d{4}$/, /^\d{2}$/, /^\d{2}$/];

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface SweepResult {
  /** Files removed: `.tmp` leftovers, health probes, images of no stored event. */
  removed: string[];
  /** Images kept (each belongs to a stored event). */
  kept: number;
  /** Files left alone because this store did not name them. */
  unknown: string[];
}

export class ImageStore {
  readonly root: string;
  readonly maxBytes: number;
  /** Day directories known to exist on disk (and to be durable in their parents). */
  private readonly dirs = new Set<string>();

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

  /** Creates YYYY/MM/DD as needed; a directory it creates is made durable in its parent. */
  private async dayDir(day: string[]): Promise<string> {
    const dir = join(this.root, ...day);
    if (this.dirs.has(dir)) return dir;
    let parent = this.root;
    for (const part of day) {
      const d = join(parent, part);
      let created = true;
      try {
        await mkdir(d, { mode: 0o750 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        created = false;
      }
      if (created) await fsyncDir(parent);
      parent = d;
    }
    this.dirs.add(dir);
    return dir;
  }

  /** Writes durably (see the guarantees above); returns the path relative to the image root. */
  async save(eventId: string, kind: ImageKind, buf: Uint8Array, ext: 'jpg' | 'png', when: Date): Promise<string> {
    const day = when.toISOString().slice(0, 10).split('-');
    const name = `${eventId}-${kind}-${randomBytes(4).toString('hex')}.${ext}`;
    const dir = await this.dayDir(day);
    const abs = join(dir, name);
    const tmp = `${abs}.tmp`;
    try {
      const fh = await open(tmp, 'w', 0o640);
      try {
        await fh.writeFile(buf);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, abs);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    await fsyncDir(dir);
    return join(...day, name);
  }

  /** Absolute path of a stored image; refuses anything outside the image root. */
  path(rel: string): string {
    const abs = resolve(this.root, rel);
    if (!abs.startsWith(this.root + sep)) throw new AppError('RESOURCE_NOT_FOUND', 'Image not found');
    return abs;
  }

  async remove(rel: string): Promise<void> {
    await rm(this.path(rel), { force: true });
  }

  /**
   * Removes what a crash left behind: `.tmp` files, health probes, and images for which
   * `owned(eventId, relPath)` is false. Run before the service accepts ingests: an image
   * being written for an event not yet committed would look like an orphan.
   */
  async sweep(owned: (eventId: string, rel: string) => boolean): Promise<SweepResult> {
    const res: SweepResult = { removed: [], kept: 0, unknown: [] };
    const visit = async (dir: string, rel: string[]): Promise<void> => {
      for (const ent of await readdir(dir, { withFileTypes: true })) {
        const abs = join(dir, ent.name);
        const relPath = join(...rel, ent.name);
        if (ent.isDirectory()) {
          if (rel.length < 3 && DAY_PART[rel.length]!.test(ent.name)) await visit(abs, [...rel, ent.name]);
          else res.unknown.push(relPath);
          continue;
        }
        const m = rel.length === 3 ? IMAGE_NAME.exec(ent.name) : null;
        const orphan = ent.name.endsWith('.tmp') || (rel.length === 0 && ent.name.startsWith('.health-')) || (m !== null && !owned(m[1]!, relPath));
        if (orphan) {
          doomed.push(abs);
          res.removed.push(relPath);
        } else if (m) res.kept++;
        else res.unknown.push(relPath);
      }
    };
    const doomed: string[] = [];
    await visit(this.root, []);
    // Removed many at a time: one at a time, each removal waits a round trip to the pool.
    for (let i = 0; i < doomed.length; i += 64) await Promise.all(doomed.slice(i, i + 64).map((f) => rm(f, { force: true })));
    return res;
  }
}
