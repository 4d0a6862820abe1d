import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadEdgeConfig } from '../../../edge/config/load.js';

const p = (f: string) => fileURLToPath(new URL(`../../../${f}`, import.meta.url));

function directives(file: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const r = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (r) m.set(r[1], [...(m.get(r[1]) ?? []), r[2]]);
  }
  return m;
}

for (const unit of ['anpr-edge.service', 'anpr-cloud.service']) {
  t.test(`${unit}: restart with a start limit, dedicated user, journald, sandboxing`, async (t) => {
    const d = directives(p(`systemd/${unit}`));
    t.equal(d.get('Restart')?.[0], 'on-failure');
    t.ok(d.has('StartLimitIntervalSec') && d.has('StartLimitBurst'));
    t.equal(d.get('User')?.[0], 'anpr');
    t.equal(d.get('StandardOutput')?.[0], 'journal');
    for (const k of ['NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'StateDirectory', 'CapabilityBoundingSet', 'SystemCallFilter']) t.ok(d.has(k), k);
    t.match(d.get('ExecStart')?.[0], /bin\/anpr\.js (edge|cloud)/);
    t.equal(d.get('Type')?.[0], 'notify', 'readiness notification');
    t.ok(d.has('WatchdogSec'));
    t.equal(d.get('NotifyAccess')?.[0], 'all', 'systemd-notify runs as a child');
    const sa = spawnSync('systemd-analyze', ['verify', p(`systemd/${unit}`)], { encoding: 'utf8' });
    if (sa.error) t.comment('systemd-analyze not installed; skipped verify');
    else t.equal(sa.stderr.trim(), '', 'systemd-analyze verify is clean');
  });
}

t.test('the example edge config is valid and the install script parses', async (t) => {
  t.equal(loadEdgeConfig(p('systemd/edge.example.yaml')).edge_id, 'gate-01');
  execFileSync('bash', ['-n', p('scripts/install-systemd.sh')]);
  execFileSync('bash', ['-n', p('scripts/demo.sh')]);
  t.ok(existsSync(p('scripts/install-systemd.sh')));
});

t.test('under systemd (NOTIFY_SOCKET), the edge reports READY=1 and pets the watchdog', async (t) => {
  const { tempDir, makeClip } = await import('../../fixtures/media.js');
  const { startEdgeProcess } = await import('../../fixtures/processes.js');
  const { waitFor } = await import('../../fixtures/wait.js');
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { hasSystemdNotify, startNotifySocket } = await import('../../fixtures/notify-socket.js');
  if (!hasSystemdNotify()) {
    t.comment('systemd-notify not installed; skipped');
    return;
  }
  const dir = tempDir(t);
  const notifySocket = await startNotifySocket(t, dir);
  const sock = notifySocket.path;
  const got = () => notifySocket.received();
  const cfg = join(dir, 'edge.json');
  writeFileSync(cfg, JSON.stringify({ edge_id: 'sd', data_dir: join(dir, 'data'), cameras: [{ id: 'c', rtsp_url: makeClip(dir), resolution: { width: 64, height: 64 } }], http: { port: 0 } }));
  const prev = { n: process.env.NOTIFY_SOCKET, w: process.env.WATCHDOG_USEC };
  process.env.NOTIFY_SOCKET = sock;
  process.env.WATCHDOG_USEC = '2000000';
  const edge = startEdgeProcess(cfg, 1000);
  process.env.NOTIFY_SOCKET = prev.n;
  process.env.WATCHDOG_USEC = prev.w;
  if (prev.n === undefined) delete process.env.NOTIFY_SOCKET;
  if (prev.w === undefined) delete process.env.WATCHDOG_USEC;
  t.teardown(() => edge.kill('SIGKILL'));
  await waitFor(() => got().includes('READY=1') && got().includes('WATCHDOG=1'), 'READY and WATCHDOG', 30_000);
  t.match(got(), /READY=1 STATUS=1 cameras/);
  await edge.kill('SIGTERM');
  await waitFor(() => got().includes('STOPPING=1'), 'STOPPING on SIGTERM', 10_000).catch(() => {});
  t.match(got(), /STOPPING=1/);
});
