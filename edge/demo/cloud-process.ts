/**
 * The cloud as its own process (`anpr cloud`), as in production: the demo's edge and its
 * recognizer never share an event loop or libuv threadpool with it.
 */
import { spawn, execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stopChild } from './stop-child.js';

const anpr = fileURLToPath(new URL('../../bin/anpr.js', import.meta.url));

export interface CloudProcess {
  url: string;
  /** Set when this start created the first admin with a generated password. */
  admin: string | null;
  createApiKey(name: string): Promise<string>;
  /** `anpr user reset-password USER --password-stdin` on this cloud's data dir. */
  resetPassword(user: string, password: string): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export async function startCloudProcess(o: {
  dataDir: string;
  port?: number;
  logLevel?: string;
  timeoutMs?: number;
  /** The first admin, when the data dir has no user yet. */
  admin?: { user: string; password: string };
}): Promise<CloudProcess> {
  const port = o.port || (await freePort());
  const admin = o.admin ? { ANPR_ADMIN_USER: o.admin.user, ANPR_ADMIN_PASSWORD: o.admin.password } : {};
  const child = spawn(process.execPath, [anpr, 'cloud', '--host', '127.0.0.1', '--port', String(port), '--data-dir', o.dataDir], {
    env: { ...process.env, ...admin, ANPR_LOG_LEVEL: o.logLevel ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the cloud exited (${child.exitCode}): ${out.trim().split('\n').slice(-3).join(' | ')}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the cloud did not start within ${o.timeoutMs ?? 30_000} ms: ${out.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  const m = /Created admin user '([^']+)' with password: (\S+)/.exec(out);
  return {
    url,
    admin: m ? `${m[1]} / ${m[2]}` : null,
    async resetPassword(user: string, password: string) {
      await new Promise<void>((resolve, reject) => {
        const p = execFile(process.execPath, [anpr, 'user', 'reset-password', user, '--password-stdin', '--data-dir', o.dataDir], (err) => (err ? reject(err) : resolve()));
        p.stdin!.end(password);
      });
    },
    async createApiKey(name: string) {
      const { stdout } = await promisify(execFile)(process.execPath, [anpr, 'apikey', 'create', name, '--data-dir', o.dataDir]);
      return stdout.trim().split('\n').pop()!.trim();
    },
    close: () => stopChild(child, 10_000),
  };
}
