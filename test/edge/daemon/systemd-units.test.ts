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
    if (unit === 'anpr-edge.service') {
      t.equal(d.get('Type')?.[0], 'notify', 'readiness notification');
      t.ok(d.has('WatchdogSec'));
      t.equal(d.get('NotifyAccess')?.[0], 'all', 'systemd-notify runs as a child');
    }
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
