/**
 * The model store: models/manifest.json names every model by upstream URL and sha256.
 * npm-shipped models are resolved inside node_modules; project models ship in models/ beside
 * the manifest (small, permissively licensed, licence file beside each); the others live in the models dir
 * (default `models/cache/`, git-ignored) after `anpr models fetch`, which takes them from a
 * local mirror or downloads them, and installs a file only after its sha256 matched.
 *
 * Guarantees: a file in the models dir was verified when it was installed (written to a
 * temporary name, hashed, then renamed); a checksum mismatch installs nothing. A model named
 * from outside the manifest (the cloud's plate detector) is read only from inside the models
 * dir (no absolute path, no `..`, no symlink out) and only when its sha256 matches the one it
 * was given; the verified bytes are what is loaded, so the file cannot change in between.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, realpathSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AppError, fieldErrors } from '../../shared/errors.js';
import { packageDir } from './package-dir.js';

export const MANIFEST_PATH = fileURLToPath(new URL('../../models/manifest.json', import.meta.url));
/** Where project models ship (beside the manifest). */
export const PROJECT_MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));
export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../models/cache/', import.meta.url));

const ModelEntry = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/),
    task: z.string(),
    format: z.string(),
    file: z.string().regex(/^[A-Za-z0-9._-]+$/, 'a plain file name'),
    source: z.union([
      z.object({ npm: z.string(), path: z.string() }).strict(),
      z.object({ project: z.string().regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'a relative path inside models/') }).strict(),
      z.object({ mirror: z.string() }).strict(),
    ]),
    url: z.url(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: z.number().int().positive(),
    licence: z.string(),
    input: z.unknown(),
    output: z.unknown().optional(),
    labels: z.unknown(),
  })
  .strict();
export type ModelEntry = z.infer<typeof ModelEntry>;

const Manifest = z.object({ $comment: z.string().optional(), version: z.literal(1), models: z.array(ModelEntry) }).strict();
export type Manifest = z.infer<typeof Manifest>;

export async function loadManifest(path = MANIFEST_PATH): Promise<Manifest> {
  const parsed = Manifest.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new AppError('CONFIG_INVALID', `invalid model manifest ${path}`, { errors: fieldErrors(parsed.error.issues) });
  return parsed.data;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

export interface StoreOptions {
  /** Where fetched models live (default models/cache/, or $ANPR_MODELS_DIR). */
  modelsDir?: string;
  /** A local mirror used when a model is not in the models dir (read in place, verified). */
  mirror?: string;
}

export type ModelState = 'ok' | 'missing' | 'checksum-mismatch';

export interface ModelStatus {
  id: string;
  file: string;
  origin: 'npm' | 'project' | 'models-dir' | 'mirror' | 'none';
  path?: string;
  state: ModelState;
}

export class ModelStore {
  readonly modelsDir: string;
  readonly mirror?: string;
  private readonly verified = new Map<string, string | undefined>();

  constructor(
    readonly manifest: Manifest,
    opts: StoreOptions = {},
  ) {
    this.modelsDir = modelsDirOf(opts.modelsDir);
    this.mirror = opts.mirror ? resolve(opts.mirror) : undefined;
  }

  static async open(opts: StoreOptions = {}): Promise<ModelStore> {
    return new ModelStore(await loadManifest(), opts);
  }

  entry(id: string): ModelEntry {
    const e = this.manifest.models.find((m) => m.id === id);
    if (!e) throw new AppError('MODEL_MISSING', `model '${id}' is not in the manifest`);
    return e;
  }

  /** Candidate locations of a model, in order of preference. */
  private locations(e: ModelEntry): { origin: ModelStatus['origin']; path: string }[] {
    if ('npm' in e.source) {
      const dir = packageDir(e.source.npm);
      return dir ? [{ origin: 'npm', path: join(dir, e.source.path) }] : [];
    }
    if ('project' in e.source) return [{ origin: 'project', path: join(PROJECT_MODELS_DIR, e.source.project) }];
    const out: { origin: ModelStatus['origin']; path: string }[] = [{ origin: 'models-dir', path: join(this.modelsDir, e.file) }];
    if (this.mirror) out.push({ origin: 'mirror', path: join(this.mirror, e.source.mirror) });
    return out;
  }

  /** Checks a model where it would be loaded from. */
  async status(id: string): Promise<ModelStatus> {
    const e = this.entry(id);
    let mismatch: ModelStatus | undefined;
    for (const loc of this.locations(e)) {
      if (!existsSync(loc.path)) continue;
      if ((await sha256File(loc.path)) === e.sha256) return { id, file: e.file, origin: loc.origin, path: loc.path, state: 'ok' };
      mismatch ??= { id, file: e.file, origin: loc.origin, path: loc.path, state: 'checksum-mismatch' };
    }
    return mismatch ?? { id, file: e.file, origin: 'none', state: 'missing' };
  }

  /**
   * The verified path of a model, or undefined when it is not installed. A file whose sha256
   * does not match is never used.
   */
  async path(id: string): Promise<string | undefined> {
    if (!this.verified.has(id)) {
      const s = await this.status(id);
      this.verified.set(id, s.state === 'ok' ? s.path : undefined);
    }
    return this.verified.get(id);
  }

  /** Like `path`, but a missing model is an error naming the fix. */
  async require(id: string): Promise<string> {
    const p = await this.path(id);
    if (p) return p;
    const s = await this.status(id);
    const e = this.entry(id);
    const hint =
      'npm' in e.source
        ? `reinstall the npm package ${e.source.npm}`
        : 'project' in e.source
          ? `restore models/${e.source.project} from the project's repository`
          : `run 'anpr models fetch' (or pass --mirror DIR)`;
    throw new AppError(s.state === 'checksum-mismatch' ? 'CHECKSUM_MISMATCH' : 'MODEL_MISSING', `model '${id}' is ${s.state}: ${hint}`);
  }

  /**
   * Installs every mirror/download model into the models dir: from `mirror` when given,
   * else from its upstream URL. Each file is verified before it is renamed into place.
   */
  async fetch(opts: { mirror?: string; download?: (url: string) => Promise<Uint8Array> } = {}): Promise<{ id: string; action: 'present' | 'installed'; from?: string }[]> {
    const results: { id: string; action: 'present' | 'installed'; from?: string }[] = [];
    const staged: { e: ModelEntry; dest: string; bytes: Uint8Array; from: string }[] = [];
    await mkdir(this.modelsDir, { recursive: true });
    // Everything is fetched and verified before anything is installed.
    for (const e of this.manifest.models) {
      if (!('mirror' in e.source)) continue;
      const dest = join(this.modelsDir, e.file);
      if (existsSync(dest) && (await sha256File(dest)) === e.sha256) {
        results.push({ id: e.id, action: 'present' });
        continue;
      }
      let bytes: Uint8Array;
      let from: string;
      if (opts.mirror) {
        from = join(resolve(opts.mirror), e.source.mirror);
        if (!existsSync(from)) throw new AppError('MODEL_MISSING', `model '${e.id}' not found in mirror: ${from}; nothing installed`);
        bytes = await readFile(from);
      } else {
        from = e.url;
        bytes = await (opts.download ?? download)(e.url);
      }
      const got = sha256(bytes);
      if (got !== e.sha256) {
        throw new AppError('CHECKSUM_MISMATCH', `model '${e.id}' from ${from}: sha256 ${got}, manifest says ${e.sha256}; nothing installed`);
      }
      staged.push({ e, dest, bytes, from });
    }
    for (const { e, dest, bytes, from } of staged) {
      const tmp = `${dest}.part-${process.pid}`;
      try {
        await writeFile(tmp, bytes);
        await rename(tmp, dest);
      } finally {
        await rm(tmp, { force: true });
      }
      this.verified.delete(e.id);
      results.push({ id: e.id, action: 'installed', from });
    }
    return results;
  }
}

/** The models dir in force: the configured one, else $ANPR_MODELS_DIR, else models/cache/. */
export function modelsDirOf(dir?: string | null): string {
  return resolve(dir ?? process.env.ANPR_MODELS_DIR ?? DEFAULT_MODELS_DIR);
}

/**
 * The bytes of `file` (a path relative to `modelsDir`), only when the file lies inside the
 * models dir and its sha256 is `expected`. Errors: CONFIG_INVALID (a path that leaves the dir, a
 * malformed checksum), MODEL_MISSING, CHECKSUM_MISMATCH.
 */
export async function readVerifiedModel(modelsDir: string, file: string, expected: string): Promise<Uint8Array> {
  if (!/^[0-9a-f]{64}$/.test(expected)) throw new AppError('CONFIG_INVALID', `model '${file}': sha256 must be 64 lower-case hex digits`);
  if (isAbsolute(file) || file.split(/[\\/]/).includes('..') || /[\u0000-\u001f]/.test(file)) {
    throw new AppError('CONFIG_INVALID', `model '${file.slice(0, 200)}': weights_path must be a path inside the models directory (${modelsDir}), without '..'`);
  }
  const path = resolve(modelsDir, file);
  if (!existsSync(path)) throw new AppError('MODEL_MISSING', `model '${file}' is not in the models directory ${modelsDir}`);
  // A symlink inside the dir must not lead out of it.
  const root = realpathSync(modelsDir);
  const real = realpathSync(path);
  if (!real.startsWith(root + sep)) throw new AppError('CONFIG_INVALID', `model '${file}' leads outside the models directory ${modelsDir}`);
  const bytes = new Uint8Array(await readFile(real));
  const got = sha256(bytes);
  if (got !== expected) throw new AppError('CHECKSUM_MISMATCH', `model '${file}': sha256 ${got}, expected ${expected}; not loaded`);
  return bytes;
}

async function download(url: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(120_000) });
  } catch (e) {
    throw new AppError('SERVICE_UNAVAILABLE', `cannot download ${url}: ${(e as Error).message} (no internet? use --mirror DIR)`, { cause: e });
  }
  if (!res.ok) throw new AppError('SERVICE_UNAVAILABLE', `download ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
