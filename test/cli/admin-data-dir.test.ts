/**
 * The admin commands that open a cloud data dir (`anpr apikey ...`, `anpr user reset-password`)
 * refuse one that holds no cloud database, and create nothing; `anpr user reset-password` gives a
 * locked-out admin a new password that signs in to the running service, ends the user's sessions
 * and leaves the old password refused.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestCloud, ADMIN_PASSWORD } from '../cloud/helpers.js';

const bin = fileURLToPath(new URL('../../bin/anpr.js', import.meta.url));

function anpr(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

t.test('a wrong --data-dir is refused by every admin command, and nothing is created', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'anpr-admin-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const wrong = join(base, 'typo', 'cloud');
  for (const args of [
    ['apikey', 'list'],
    ['apikey', 'create', 'gate-1'],
    ['apikey', 'revoke', 'gate-1'],
    ['user', 'reset-password', 'admin'],
  ]) {
    const r = await anpr([...args, '--data-dir', wrong]);
    t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
    t.match(r.stderr, /RESOURCE_NOT_FOUND: no cloud data in .*typo\/cloud/, `${args.join(' ')}: says which dir`);
    t.equal(r.stdout, '');
  }
  t.notOk(existsSync(join(base, 'typo')), 'no directory or database created');
});

t.test('user reset-password: the new password signs in to the running service, the old one and the sessions end', async (t) => {
  const c = await startTestCloud(t);
  const session = await c.req('/auth/login', { method: 'POST', json: { username: 'admin', password: ADMIN_PASSWORD } });
  t.equal(session.status, 200);
  const { refresh_token } = (await session.json()) as { refresh_token: string };

  const r = await anpr(['user', 'reset-password', 'admin', '--data-dir', c.dataDir]);
  t.equal(r.code, 0, r.stderr);
  const password = r.stdout.trim().split('\n').pop()!;
  t.match(password, /^[A-Za-z0-9_-]{16}$/, 'a generated password, printed as the last line');
  t.equal((await c.req('/auth/token', { method: 'POST', json: { username: 'admin', password } })).status, 200, 'the new password signs in');
  t.equal((await c.req('/auth/token', { method: 'POST', json: { username: 'admin', password: ADMIN_PASSWORD } })).status, 401, 'the old one is refused');
  t.equal((await c.req('/auth/refresh', { method: 'POST', json: { refresh_token } })).status, 401, 'the earlier session ended');

  const chosen = await anpr(['user', 'reset-password', 'admin', '--password-stdin', '--data-dir', c.dataDir], 'chosen-password-9\n');
  t.equal(chosen.code, 0, chosen.stderr);
  t.notMatch(chosen.stdout, /chosen-password-9/, 'a given password is never echoed');
  t.equal((await c.req('/auth/token', { method: 'POST', json: { username: 'admin', password: 'chosen-password-9' } })).status, 200);

  const short = await anpr(['user', 'reset-password', 'admin', '--password-stdin', '--data-dir', c.dataDir], 'short\n');
  t.equal(short.code, 1);
  t.match(short.stderr, /VALIDATION_ERROR: the password must be at least 8 characters/);
  const nobody = await anpr(['user', 'reset-password', 'nobody', '--data-dir', c.dataDir]);
  t.equal(nobody.code, 1);
  t.match(nobody.stderr, /RESOURCE_NOT_FOUND: no user 'nobody'/);
  t.equal((await c.req('/auth/token', { method: 'POST', json: { username: 'admin', password: 'chosen-password-9' } })).status, 200, 'refused resets changed nothing');
});
