/**
 * The edge outbox: every confirmed read, durably, until each exporter has it.
 *
 * Guarantees (enforced here, repeated in docs/edge.md and the README):
 * 1. Durable before sent. `add()` writes the frame and crop JPEGs (temp file, fsync, rename,
 *    fsync of the directory) and only then commits the event row together with one delivery
 *    row per exporter, in one transaction, with `synchronous=FULL`. Once `add()` returns, the
 *    event survives kill -9 and power loss; before it returns, the event does not exist.
 * 2. At-least-once per exporter, exactly-once at the cloud. A delivery is marked done only after
 *    the exporter's acknowledgement (HTTP 2xx/409, MQTT PUBACK). A crash between the send and
 *    the mark re-sends; the cloud deduplicates by `event_id` (409 counts as delivered).
 * 3. Order per camera. Each exporter takes the oldest undelivered event of each camera and
 *    does not move on to that camera's next event until it is delivered or dead-lettered.
 * 4. Dead letters never block. A permanent rejection (4xx other than 409/429) moves that one
 *    event to `dead` for that exporter; the camera's queue continues. `retry` revives them.
 * 5. Events are never evicted. Images are: when the image bytes exceed the disk budget, the
 *    oldest events' JPEGs are deleted first; the event is still delivered, without images.
 * 6. One writer. Only the process holding the outbox writes to it (the daemon), enforced by
 *    `outbox.lock`; WAL lets readers such as `anpr outbox status` look without blocking it.
 */
import Database from 'better-sqlite3';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EventIngest as EventIngestSchema, type EventIngest } from '../../shared/schemas/event.js';
import { AppError, fieldErrors } from '../../shared/errors.js';

export type DeliveryState = 'pending' | 'delivered' | 'dead';

export interface OutboxEvent {
  seq: number;
  eventId: string;
  cameraId: string;
  createdAt: number;
  body: EventIngest;
  framePath: string | null;
  cropPath: string | null;
}

export interface PendingDelivery extends OutboxEvent {
  exporter: string;
  attempts: number;
  nextAttemptAt: number;
}

export interface OutboxOptions {
  /** Directory for outbox.db and images/. */
  dataDir: string;
  /** Names of the exporters each new event is queued for. */
  exporters: string[];
  /** Disk budget for images, bytes (events themselves are never evicted). */
  imageBudgetBytes?: number;
  /**
   * Delete image files no row references (a crash between file and row). Only the writer may
   * do this; a reader (the CLI) must pass false or it could delete an image being committed.
   */
  sweepOrphans?: boolean;
  /**
   * Take the writer lock (`outbox.lock` with this pid): a second live writer on the same
   * data_dir is refused (guarantee 6). Default: the same as `sweepOrphans`.
   */
  writer?: boolean;
  /** Skip fsync (benchmarks of the non-durable baseline only). */
  unsafeNoFsync?: boolean;
}

export interface OutboxStats {
  events: number;
  imageBytes: number;
  imagesEvicted: number;
  byExporter: Record<string, { pending: number; delivered: number; dead: number; oldestPendingAt: number | null }>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  camera_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  body TEXT NOT NULL,
  frame_path TEXT,
  crop_path TEXT,
  image_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS deliveries (
  exporter TEXT NOT NULL,
  event_seq INTEGER NOT NULL REFERENCES events(seq),
  camera_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending','delivered','dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (exporter, event_seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_queue ON deliveries (exporter, state, camera_id, event_seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `data` so that after return it is on disk under `path`, complete or not at all. */
export function writeFileAtomic(path: string, data: Buffer, sync = true): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o640);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A pid reused after a reboot by something that is not node is not our writer.
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return true;
  }
}

/** Creates the lock file, or takes over one whose writer is dead; throws if a writer lives. */
function takeWriterLock(path: string): string {
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(path, 'wx', 0o640);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (pid === process.pid) throw new AppError('SERVICE_UNAVAILABLE', `the outbox in ${dirname(path)} is already open in this process`);
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) {
        throw new AppError('SERVICE_UNAVAILABLE', `another edge (pid ${pid}) writes the outbox in ${dirname(path)}; stop it first (one writer per outbox)`);
      }
      rmSync(path, { force: true }); // stale: its writer died (kill -9, power loss)
    }
  }
  throw new AppError('SERVICE_UNAVAILABLE', `cannot take the outbox lock ${path}`);
}

function releaseWriterLock(path: string): void {
  try {
    if (Number(readFileSync(path, 'utf8').trim()) === process.pid) unlinkSync(path);
  } catch {
    /* already gone */
  }
}

export class Outbox {
  readonly db: Database.Database;
  readonly imagesDir: string;
  private readonly lockPath: string | null;
  private exporters: string[];
  private readonly budget: number;
  private readonly sync: boolean;
  private imageBytes: number;
  private evicted = 0;
  private readonly stmts;
  /** Per exporter, the cameras that may have pending deliveries (kept in step by add/retry/replay). */
  private lanes = new Map<string, Set<string>>();
  /** Every exporter that has delivery rows, found once at open, plus those configured since. */
  private knownExporters = new Set<string>();

  constructor(opts: OutboxOptions) {
    mkdirSync(opts.dataDir, { recursive: true });
    this.lockPath = opts.writer ?? opts.sweepOrphans ?? true ? takeWriterLock(join(opts.dataDir, 'outbox.lock')) : null;
    this.imagesDir = join(opts.dataDir, 'images');
    mkdirSync(this.imagesDir, { recursive: true });
    this.exporters = [...opts.exporters];
    this.budget = opts.imageBudgetBytes ?? 2 * 1024 ** 3;
    this.sync = !opts.unsafeNoFsync;
    this.db = new Database(join(opts.dataDir, 'outbox.db'));
    // WAL: readers (status, ops HTTP) never block the writer and a commit is one sequential append.
    this.db.pragma('journal_mode = WAL');
    // FULL: a commit is fsynced before add() returns; guarantee 1 depends on it.
    this.db.pragma(`synchronous = ${this.sync ? 'FULL' : 'OFF'}`);
    this.db.pragma('foreign_keys = ON');
    // A second process (the CLI) may briefly hold the write lock for retry/replay.
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.stmts = {
      insertEvent: this.db.prepare(
        'INSERT INTO events (event_id, camera_id, created_at, body, frame_path, crop_path, image_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      insertDelivery: this.db.prepare(
        "INSERT INTO deliveries (exporter, event_seq, camera_id, state, updated_at) VALUES (?, ?, ?, 'pending', ?)",
      ),
      // Head of one camera's queue for one exporter: O(log n) on the queue index, whatever the backlog.
      headOf: this.db.prepare(`
        SELECT d.exporter, d.attempts, d.next_attempt_at, e.seq, e.event_id, e.camera_id, e.created_at, e.body, e.frame_path, e.crop_path
        FROM deliveries d JOIN events e ON e.seq = d.event_seq
        WHERE d.exporter = ? AND d.state = 'pending' AND d.camera_id = ?
        ORDER BY d.event_seq LIMIT 1`),
      laneCameras: this.db.prepare("SELECT DISTINCT camera_id FROM deliveries WHERE exporter = ? AND state = 'pending'"),
      markDelivered: this.db.prepare(
        "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, last_error = NULL, updated_at = ? WHERE exporter = ? AND event_seq = ?",
      ),
      markFailed: this.db.prepare(
        'UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE exporter = ? AND event_seq = ?',
      ),
      markDead: this.db.prepare(
        "UPDATE deliveries SET state = 'dead', attempts = attempts + 1, last_error = ?, updated_at = ? WHERE exporter = ? AND event_seq = ?",
      ),
      imageBytes: this.db.prepare('SELECT COALESCE(SUM(image_bytes), 0) AS n FROM events'),
      oldestWithImages: this.db.prepare('SELECT seq, frame_path, crop_path, image_bytes FROM events WHERE image_bytes > 0 ORDER BY seq LIMIT 64'),
      dropImages: this.db.prepare('UPDATE events SET frame_path = NULL, crop_path = NULL, image_bytes = 0 WHERE seq = ?'),
      byId: this.db.prepare('SELECT seq FROM events WHERE event_id = ?'),
      countState: this.db.prepare('SELECT COUNT(*) AS n FROM deliveries WHERE exporter = ? AND state = ?'),
      allExporters: this.db.prepare('SELECT DISTINCT exporter FROM deliveries'),
    };
    this.imageBytes = (this.stmts.imageBytes.get() as { n: number }).n;
    for (const r of this.stmts.allExporters.all() as Array<{ exporter: string }>) this.knownExporters.add(r.exporter);
    for (const ex of this.exporters) this.knownExporters.add(ex);
    if (opts.sweepOrphans ?? true) this.sweepTempFiles();
  }

  /** Exporters that new events are queued for (config reloads change it). */
  setExporters(names: string[]): void {
    this.exporters = [...names];
    for (const ex of names) this.knownExporters.add(ex);
  }

  /**
   * Stores one event durably (guarantee 1). The body is validated against the API contract.
   * Returns its outbox sequence; a second add of the same `event_id` is a DUPLICATE_RESOURCE.
   */
  add(body: EventIngest, images: { frame?: Buffer; crop?: Buffer } = {}): number {
    const parsed = EventIngestSchema.safeParse(body);
    if (!parsed.success) {
      throw new AppError('VALIDATION_ERROR', 'event does not match the contract', { errors: fieldErrors(parsed.error.issues) });
    }
    const eventId = body.event_id;
    const cameraId = body.camera_id ?? '-';
    if (this.stmts.byId.get(eventId)) throw new AppError('DUPLICATE_RESOURCE', `event ${eventId} is already in the outbox`);
    const day = new Date().toISOString().slice(0, 10);
    const dir = join(this.imagesDir, day);
    let framePath: string | null = null;
    let cropPath: string | null = null;
    let bytes = 0;
    if (images.frame || images.crop) {
      mkdirSync(dir, { recursive: true });
      if (images.frame) {
        framePath = join(day, `${eventId}-frame.jpg`);
        writeFileAtomic(join(this.imagesDir, framePath), images.frame, this.sync);
        bytes += images.frame.length;
      }
      if (images.crop) {
        cropPath = join(day, `${eventId}-crop.jpg`);
        writeFileAtomic(join(this.imagesDir, cropPath), images.crop, this.sync);
        bytes += images.crop.length;
      }
      // The renames themselves must be durable before the row that points at them.
      if (this.sync) fsyncDir(dir);
    }
    const now = Date.now();
    const seq = this.db.transaction(() => {
      const info = this.stmts.insertEvent.run(eventId, cameraId, now, JSON.stringify(body), framePath, cropPath, bytes);
      const s = Number(info.lastInsertRowid);
      for (const ex of this.exporters) this.stmts.insertDelivery.run(ex, s, cameraId, now);
      return s;
    })();
    this.imageBytes += bytes;
    for (const ex of this.exporters) this.lanes.get(ex)?.add(cameraId);
    if (this.imageBytes > this.budget) this.evictImages();
    return seq;
  }

  /** The oldest pending event of each camera for `exporter` (guarantee 3). */
  heads(exporter: string): PendingDelivery[] {
    let lane = this.lanes.get(exporter);
    if (!lane) {
      lane = new Set((this.stmts.laneCameras.all(exporter) as Array<{ camera_id: string }>).map((r) => r.camera_id));
      this.lanes.set(exporter, lane);
    }
    const out: PendingDelivery[] = [];
    for (const cam of lane) {
      const r = this.stmts.headOf.get(exporter, cam) as Record<string, unknown> | undefined;
      if (!r) {
        lane.delete(cam);
        continue;
      }
      out.push({
        exporter: r.exporter as string,
        attempts: r.attempts as number,
        nextAttemptAt: r.next_attempt_at as number,
        seq: r.seq as number,
        eventId: r.event_id as string,
        cameraId: r.camera_id as string,
        createdAt: r.created_at as number,
        body: JSON.parse(r.body as string),
        framePath: r.frame_path as string | null,
        cropPath: r.crop_path as string | null,
      });
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** Reads an event's image, or null when it was evicted or never existed. */
  readImage(rel: string | null): Buffer | null {
    if (!rel) return null;
    try {
      return readFileSync(join(this.imagesDir, rel));
    } catch {
      return null;
    }
  }

  markDelivered(exporter: string, seq: number): void {
    this.stmts.markDelivered.run(Date.now(), exporter, seq);
  }

  markFailed(exporter: string, seq: number, error: string, nextAttemptAt: number): void {
    this.stmts.markFailed.run(nextAttemptAt, error.slice(0, 1000), Date.now(), exporter, seq);
  }

  markDead(exporter: string, seq: number, error: string): void {
    this.stmts.markDead.run(error.slice(0, 1000), Date.now(), exporter, seq);
  }

  /** Revives dead letters (and resets backoff of pending ones) so they are tried now. */
  retry(exporter?: string): number {
    const where = exporter ? 'AND exporter = ?' : '';
    const args = exporter ? [Date.now(), exporter] : [Date.now()];
    this.lanes.clear();
    return this.db
      .prepare(`UPDATE deliveries SET state = 'pending', next_attempt_at = 0, updated_at = ? WHERE state IN ('dead','pending') ${where}`)
      .run(...args).changes;
  }

  /**
   * Queues already-delivered events again for `exporter` (e.g. a wiped cloud), from `sinceMs`.
   * The cloud's dedup by event_id makes this safe. Also queues events the exporter never had.
   */
  replay(exporter: string, sinceMs = 0): number {
    const now = Date.now();
    this.lanes.clear();
    this.knownExporters.add(exporter);
    return this.db.transaction(() => {
      const a = this.db
        .prepare("UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = 0, updated_at = ? WHERE exporter = ? AND event_seq IN (SELECT seq FROM events WHERE created_at >= ?)")
        .run(now, exporter, sinceMs).changes;
      const b = this.db
        .prepare(
          "INSERT INTO deliveries (exporter, event_seq, camera_id, state, updated_at) SELECT ?, seq, camera_id, 'pending', ? FROM events WHERE created_at >= ? AND seq NOT IN (SELECT event_seq FROM deliveries WHERE exporter = ?)",
        )
        .run(exporter, now, sinceMs, exporter).changes;
      return a + b;
    })();
  }

  stats(): OutboxStats {
    const events = (this.db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    const rows = this.db
      .prepare(
        "SELECT exporter, state, COUNT(*) AS n, MIN(CASE WHEN state = 'pending' THEN updated_at END) AS oldest FROM deliveries GROUP BY exporter, state",
      )
      .all() as Array<{ exporter: string; state: DeliveryState; n: number; oldest: number | null }>;
    const byExporter: OutboxStats['byExporter'] = {};
    for (const ex of this.exporters) byExporter[ex] = { pending: 0, delivered: 0, dead: 0, oldestPendingAt: null };
    for (const r of rows) {
      const e = (byExporter[r.exporter] ??= { pending: 0, delivered: 0, dead: 0, oldestPendingAt: null });
      e[r.state] = r.n;
      if (r.state === 'pending') e.oldestPendingAt = r.oldest;
    }
    return { events, imageBytes: this.imageBytes, imagesEvicted: this.evicted, byExporter };
  }

  /**
   * Undelivered and dead-lettered counts per exporter, from the queue index only: cheap enough
   * for every /metrics scrape however many delivered events the outbox holds.
   */
  depth(): Record<string, { pending: number; dead: number }> {
    const out: Record<string, { pending: number; dead: number }> = {};
    for (const ex of this.knownExporters) {
      out[ex] = {
        pending: (this.stmts.countState.get(ex, 'pending') as { n: number }).n,
        dead: (this.stmts.countState.get(ex, 'dead') as { n: number }).n,
      };
    }
    return out;
  }

  /** Bytes of images on disk (tracked in memory). */
  get imageBytesOnDisk(): number {
    return this.imageBytes;
  }

  /** Dead letters with their last error, newest first. */
  deadLetters(limit = 50): Array<{ exporter: string; eventId: string; cameraId: string; attempts: number; lastError: string | null }> {
    return this.db
      .prepare(
        "SELECT d.exporter, e.event_id AS eventId, e.camera_id AS cameraId, d.attempts, d.last_error AS lastError FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.state = 'dead' ORDER BY d.updated_at DESC LIMIT ?",
      )
      .all(limit) as never;
  }

  /** Guarantee 5: oldest images go first; event rows stay. */
  private evictImages(): void {
    while (this.imageBytes > this.budget) {
      const rows = this.stmts.oldestWithImages.all() as Array<{ seq: number; frame_path: string | null; crop_path: string | null; image_bytes: number }>;
      if (!rows.length) break;
      for (const r of rows) {
        if (this.imageBytes <= this.budget) break;
        // Row first: a crash after it leaves an orphan file (swept at start), never a dangling path.
        this.stmts.dropImages.run(r.seq);
        for (const p of [r.frame_path, r.crop_path]) if (p) rmSync(join(this.imagesDir, p), { force: true });
        this.imageBytes -= r.image_bytes;
        this.evicted++;
      }
    }
  }

  /** Removes temp files and images no row references (a crash between file and row). */
  private sweepTempFiles(): void {
    const referenced = new Set<string>();
    for (const r of this.db.prepare('SELECT frame_path, crop_path FROM events WHERE image_bytes > 0').iterate() as Iterable<{ frame_path: string | null; crop_path: string | null }>) {
      if (r.frame_path) referenced.add(r.frame_path);
      if (r.crop_path) referenced.add(r.crop_path);
    }
    if (!existsSync(this.imagesDir)) return;
    for (const day of readdirSync(this.imagesDir)) {
      const d = join(this.imagesDir, day);
      if (!statSync(d).isDirectory()) continue;
      for (const f of readdirSync(d)) {
        if (!referenced.has(join(day, f))) unlinkSync(join(d, f));
      }
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
    if (this.lockPath) releaseWriterLock(this.lockPath);
  }
}
