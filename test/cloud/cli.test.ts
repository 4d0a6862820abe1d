import t from 'tap';
import type { Test } from 'tap';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type AddressInfo } from 'node:net';

import { waitFor } from '../fixtures/wait.js';
import { CACHE_MS } from '../../cloud/auth/api-keys.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/anpr.js', import.meta.url));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** Runs `anpr cloud` as a real process; resolves once it listens. */
async function startCloudProcess(t: Test, dir: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'cloud', '--port', String(port), '--data-dir', dir], {
    env: { ...process.env, ANPR_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // Resolves on the log line that says it listens, or when the process exits first.
  const up = new Promise<void>((resolve) => {
    const seen = () => /cloud service listening/.test(out) && resolve();
    child.stdout.on('data', (d) => ((out += d), seen()));
    child.stderr.on('data', (d) => ((out += d), seen()));
    void exited.then(() => resolve());
  });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const url = `http://127.0.0.1:${port}`;
  await up;
  return { child, url, output: () => out, exited };
}

t.test('anpr cloud: first start prints a generated admin password once; apikey create/list/revoke', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ANPR_ADMIN_PASSWORD: '', ANPR_ADMIN_USER: '' };
  const p1 = await startCloudProcess(t, dir, env);
  const m = /Created admin user 'admin' with password: (\S+)/.exec(p1.output());
  t.ok(m, 'password printed');
  const password = m![1]!;
  t.notMatch(p1.output().replace(m![0], ''), password, 'printed exactly once, never logged');
  const tok = await fetch(`${p1.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
  t.equal(tok.status, 200, 'the printed password signs in');

  const created = await run(process.execPath, [bin, 'apikey', 'create', 'gate-1', '--data-dir', dir]);
  const key = created.stdout.trim().split('\n').pop()!;
  t.match(key, /^anpr_[A-Za-z0-9_-]{40,}$/, 'the key is the last line');
  const ingest = (k: string, id: string) =>
    fetch(`${p1.url}/events/ingest`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': k }, body: JSON.stringify({ event_id: id, plate_text: 'ABC123' }) });
  t.equal((await ingest(key, 'cli-1')).status, 202, 'the running service accepts a key made by the CLI');
  const list = JSON.parse((await run(process.execPath, [bin, 'apikey', 'list', '--json', '--data-dir', dir])).stdout);
  t.equal(list.length, 1);
  t.equal(list[0].name, 'gate-1');
  t.notMatch(JSON.stringify(list), key, 'list never shows the key');
  await run(process.execPath, [bin, 'apikey', 'revoke', 'gate-1', '--data-dir', dir]);
  // The service caches key lookups for CACHE_MS: wait until it refuses the key (an empty body
  // is 400 while the key is valid and stores nothing), then check a real event.
  const refused = async () =>
    (await fetch(`${p1.url}/events/ingest`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: '{}' })).status === 401;
  await waitFor(refused, 'the revoked key refused', CACHE_MS + 20_000, 100);
  t.equal((await ingest(key, 'cli-2')).status, 401, 'revoked key refused by the running service');
  const again = await run(process.execPath, [bin, 'apikey', 'revoke', 'gate-1', '--data-dir', dir]).catch((e) => e);
  t.equal(again.code, 1);
  t.match(again.stderr, /RESOURCE_NOT_FOUND/);

  p1.child.kill('SIGTERM');
  t.equal(await p1.exited, 0, 'SIGTERM stops it cleanly');
  const p2 = await startCloudProcess(t, dir, env);
  t.notMatch(p2.output(), /Created admin user/, 'no new admin on restart');
  const events = await fetch(`${p2.url}/events/cli-1`, { headers: { authorization: `Bearer ${(await (await fetch(`${p2.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) })).json()).access_token}` } });
  t.equal(events.status, 200, 'data survives the restart');
});

t.test('anpr cloud rejects bad options with a usage error', async (t) => {
  const r = await run(process.execPath, [bin, 'cloud', '--port', 'eighty']).catch((e) => e);
  t.equal(r.code, 1);
  t.match(r.stderr, /--port must be an integer/);
  const u = await run(process.execPath, [bin, 'apikey', 'create']).catch((e) => e);
  t.match(u.stderr, /missing argument EDGE_ID/);
});

t.test('under systemd (NOTIFY_SOCKET), anpr cloud reports READY=1, pets the watchdog and says STOPPING=1', async (t) => {
  const { hasSystemdNotify, startNotifySocket } = await import('../fixtures/notify-socket.js');
  if (!hasSystemdNotify()) {
    t.plan(0, 'systemd-notify not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'anpr-notify-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const notifySocket = await startNotifySocket(t, dir);
  const sock = notifySocket.path;
  const until = (what: string, ms: number) => waitFor(() => notifySocket.received().includes(what), what, ms).then(() => true, () => false);
  const p = await startCloudProcess(t, join(dir, 'data'), { ANPR_ADMIN_PASSWORD: 'pw-123456', NOTIFY_SOCKET: sock, WATCHDOG_USEC: '2000000' });
  t.ok(await until('READY=1', 30_000), 'READY=1 once listening');
  t.match(notifySocket.received(), /STATUS=listening on http:\/\/127\.0\.0\.1:\d+/);
  t.ok(await until('WATCHDOG=1', 10_000), 'watchdog petted');
  p.child.kill('SIGTERM');
  t.equal(await p.exited, 0);
  t.ok(await until('STOPPING=1', 5_000), 'STOPPING=1 on SIGTERM');
});
