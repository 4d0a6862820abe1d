/**
 * Starts a real cloud service on a loopback port with a fresh data dir, for one test file.
 * With ANPR_TEST_DATABASE=postgres every cloud gets a fresh database on a PostgreSQL cluster
 * this test process starts (once, stopped at its end): the same API tests then prove the
 * PostgreSQL backend (`npm run test:postgres`).
 */
import tap, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startCloud, type CloudOptions, type RunningCloud } from '../../cloud/server.js';
import { silentLogger } from '../../shared/log.js';
import { Agent, fetch as ufetch } from 'undici';
import { startPostgresCluster, type PgCluster } from '../fixtures/postgres.js';

export const ADMIN_PASSWORD = 'test-admin-password';

export interface TestCloud extends RunningCloud {
  dataDir: string;
  adminToken: string;
  apiKey: string;
  /** fetch against the service with optional bearer token / api key. */
  req(path: string, init?: RequestInit & { token?: string; key?: string; json?: unknown }): Promise<Response>;
  token(username: string, password: string): Promise<string>;
  addUser(username: string, password: string, role: 'viewer' | 'operator' | 'admin'): Promise<string>;
}

/** Which database the test clouds use: `sqlite` (default) or `postgres`. */
export const TEST_DATABASE = process.env.ANPR_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';

/** `skip` of a test that reads or writes the SQLite file directly (false on SQLite runs). */
export const ONLY_SQLITE = TEST_DATABASE === 'postgres' ? 'looks into the SQLite file' : false;

let cluster: Promise<PgCluster> | undefined;
const databaseOfDir = new Map<string, string>();
/**
 * The database of one test cloud on this process's cluster (PostgreSQL runs only): a fresh one,
 * or the same one again for a cloud restarted on the same data dir.
 */
async function testDatabaseUrl(dataDir: string): Promise<string> {
  cluster ??= startPostgresCluster(tap);
  let url = databaseOfDir.get(dataDir);
  if (!url) databaseOfDir.set(dataDir, (url = await (await cluster).createDatabase()));
  return url;
}

const HIGH = { events: 1_000_000, config: 1_000_000, exporters: 1_000_000, auth: 1_000_000 };

export async function startTestCloud(t: Test, opts: Partial<CloudOptions> = {}, dataDir?: string): Promise<TestCloud> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'anpr-cloud-'));
  const cloud = await startCloud({
    port: 0,
    dataDir: dir,
    ...(TEST_DATABASE === 'postgres' ? { databaseUrl: await testDatabaseUrl(dir) } : {}),
    logger: silentLogger,
    env: { ANPR_ADMIN_PASSWORD: ADMIN_PASSWORD },
    ...opts,
    rateLimits: { ...HIGH, ...opts.rateLimits },
  });
  t.teardown(async () => {
    await cloud.close();
    if (!dataDir) rmSync(dir, { recursive: true, force: true });
  });
  const req: TestCloud['req'] = (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (init.token) headers.set('authorization', `Bearer ${init.token}`);
    if (init.key) headers.set('x-api-key', init.key);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    return fetch(cloud.url + path, { ...init, headers, body });
  };
  const token = async (username: string, password: string) => {
    const r = await req('/auth/token', { method: 'POST', json: { username, password } });
    if (r.status !== 200) throw new Error(`sign-in failed: ${r.status}`);
    return ((await r.json()) as { access_token: string }).access_token;
  };
  const tc: TestCloud = {
    ...cloud,
    dataDir: dir,
    adminToken: await token('admin', ADMIN_PASSWORD),
    // Edge edge-001, the edge of the events `event()` builds (an edge's key ingests only its own).
    apiKey: (await cloud.ctx.apiKeys.create('edge-001', 'test-edge')).key,
    req,
    token,
    async addUser(username, password, role) {
      await cloud.ctx.users.create(username, password, role);
      return token(username, password);
    },
  };
  return tc;
}

/** A small real JPEG made by ffmpeg. */
export function makeJpeg(size = '64x48'): Buffer {
  return execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}`, '-frames:v', '1', '-f', 'image2', '-c:v', 'mjpeg', 'pipe:1']);
}

export function event(id: string, extra: Record<string, unknown> = {}) {
  return {
    event_id: id,
    timestamp: '2023-12-15T14:30:45.123Z',
    camera_id: 'cam-001',
    zone_id: 'zone-entrance',
    plate_text: 'ABC123',
    confidence: 0.95,
    raw_candidates: [{ text: 'ABC123', confidence: 0.95, model: 'paddle-ocr' }],
    metadata: { edge_worker_id: 'edge-001', processing_time_ms: 245 },
    ...extra,
  };
}

/** A sign-in from a given loopback source address, optionally through a proxy header. */
export function signInFrom(c: TestCloud, body: { username: string; password: string }, opts: { from?: string; xff?: string; path?: string } = {}) {
  const dispatcher = new Agent({ localAddress: opts.from ?? '127.0.0.1' });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.xff) headers['x-forwarded-for'] = opts.xff;
  return ufetch(c.url + (opts.path ?? '/auth/login'), { method: 'POST', headers, body: JSON.stringify(body), dispatcher }).finally(() => dispatcher.close());
}
