/**
 * Event images on disk under `<root>/YYYY/MM/DD/` (root: `<data dir>/images`, or the directory
 * of `--images-url`). File names are derived by the server (event id + kind + random suffix),
 * never taken from the client.
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
import { createReadStream, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { AppError } from '../../shared/errors.js';
import { DAY_PART, IMAGE_NAME, dayEndMs, dayParts, imageName, mimeOf, type ImageKind, type ImageStore, type StorageProbe, type StoredImage, type SweepResult } from './image-store.js';

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Free space under which the store reports itself unhealthy. */
const MIN_FREE_BYTES = 64 * 1024 * 1024;

export class LocalImageStore implements ImageStore {
  readonly backend = 'local' as const;
  readonly sweepsBeforeListening = true;
  readonly root: string;
  readonly maxBytes: number;
  /** Day directories known to exist on disk (and to be durable in their parents). */
  private readonly dirs = new Set<string>();

  /** `root`: the image directory itself (created if missing). */
  constructor(root: string, maxBytes: number) {
    this.root = resolve(root);
    this.maxBytes = maxBytes;
    mkdirSync(this.root, { recursive: true });
  }

  get location(): string {
    return this.root;
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
    const day = dayParts(when);
    const name = imageName(eventId, kind, ext);
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

  async open(rel: string): Promise<StoredImage | null> {
    const file = this.path(rel);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      return null;
    }
    return { body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>, size, type: mimeOf(rel) };
  }

  async remove(rel: string): Promise<void> {
    await rm(this.path(rel), { force: true });
  }

  /** Writes, reads back and removes a probe file, and checks the free space. */
  async probe(detailed: boolean): Promise<StorageProbe> {
    const probe = join(this.root, `.health-${randomBytes(4).toString('hex')}`);
    try {
      const data = randomBytes(16);
      writeFileSync(probe, data);
      const back = readFileSync(probe);
      rmSync(probe, { force: true });
      if (!back.equals(data)) throw new Error('read-back mismatch');
      const fs = statfsSync(this.root);
      const free = fs.bavail * fs.bsize;
      return {
        ok: free >= MIN_FREE_BYTES,
        ...(free < MIN_FREE_BYTES ? { error: 'less than 64 MiB of disk left' } : {}),
        ...(detailed ? { details: { backend: 'local', path: this.root, free_bytes: free, total_bytes: fs.blocks * fs.bsize, accessible: true } } : {}),
      };
    } catch (e) {
      try {
        rmSync(probe, { force: true });
      } catch {
        // the directory itself is what failed
      }
      return { ok: false, error: (e as Error).message };
    }
  }

  async removeDaysBefore(cutoffMs: number): Promise<number> {
    let removed = 0;
    const list = async (dir: string) => (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name);
    for (const y of (await list(this.root)).filter((n) => DAY_PART[0]!.test(n))) {
      for (const m of (await list(join(this.root, y))).filter((n) => DAY_PART[1]!.test(n))) {
        for (const d of (await list(join(this.root, y, m))).filter((n) => DAY_PART[2]!.test(n))) {
          if (!(dayEndMs([y, m, d]) <= cutoffMs)) continue;
          const dir = join(this.root, y, m, d);
          removed += (await readdir(dir)).filter((n) => IMAGE_NAME.test(n)).length;
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
    return removed;
  }

  /**
   * Removes what a crash left behind: `.tmp` files, health probes, and images for which
   * `owned(eventId, relPath)` is false. Run before the service accepts ingests: an image
   * being written for an event not yet committed would look like an orphan.
   */
  async sweep(owned: (eventId: string, rel: string) => Promise<boolean>): Promise<SweepResult> {
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
        const orphan = ent.name.endsWith('.tmp') || (rel.length === 0 && ent.name.startsWith('.health-')) || (m !== null && !(await owned(m[1]!, relPath)));
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
