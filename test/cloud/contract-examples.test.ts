/**
 * The contract's curl examples, run as written against a real `anpr cloud` service, in the
 * order the contract gives them. Only what a reader must change is changed: the host and
 * port, the placeholders for token/key/password, and LAN or public addresses (the camera at
 * 192.168.1.100, broker.example.com), which become 127.0.0.1.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestCloud, makeJpeg, ADMIN_PASSWORD } from './helpers.js';

const run = promisify(execFile);
const spec = fileURLToPath(new URL('../../../shared/spec/anpr-api.md', import.meta.url));

/** Every curl command of the ```bash blocks, whole (continuations and multi-line bodies). */
function curlExamples(md: string): string[] {
  const blocks = [...md.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const out: string[] = [];
  for (const b of blocks) {
    let cur: string[] | null = null;
    for (const line of b.split('\n')) {
      if (line.startsWith('curl ')) {
        if (cur) out.push(cur.join('\n'));
        cur = [line];
      } else if (line.startsWith('#') || (line.trim() === '' && cur && !/\\$/.test(cur.at(-1)!))) {
        if (cur) out.push(cur.join('\n'));
        cur = null;
      } else if (cur) {
        cur.push(line);
      }
    }
    if (cur) out.push(cur.join('\n'));
  }
  return out.map((c) => c.trim());
}

t.test('every curl example of the contract works against anpr cloud', { skip: existsSync(spec) ? false : `no contract at ${spec}` }, async (t) => {
  const c = await startTestCloud(t);
  const cwd = mkdtempSync(join(tmpdir(), 'anpr-curl-'));
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }));
  writeFileSync(join(cwd, 'frame.jpg'), makeJpeg('320x240'));
  writeFileSync(join(cwd, 'crop.jpg'), makeJpeg('64x32'));
  const examples = curlExamples(readFileSync(spec, 'utf8'));
  t.ok(examples.length >= 30, `${examples.length} examples found`);
  const host = new URL(c.url).host;
  const statuses: Array<[string, number]> = [];
  for (const ex of examples) {
    const cmd = ex
      .replace(/http:\/\/localhost:8000/g, `http://${host}`)
      .replace(/ws:\/\/localhost:8000/g, `http://${host}`)
      .replace(/your-jwt-token/g, c.adminToken)
      .replace(/eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\.\.\./g, c.adminToken)
      .replace(/your-api-key-here|your-api-key/g, c.apiKey)
      .replace(/your-password/g, ADMIN_PASSWORD)
      .replace(/192\.168\.1\.100/g, '127.0.0.1')
      .replace(/broker\.example\.com/g, '127.0.0.1')
      // A sign-in hashes the password (scrypt at OWASP's cost: seconds on a loaded machine).
      .replace(/^curl /, `curl -s -o /dev/null -m ${/\/auth\/token/.test(ex) ? 60 : 3} -w '%{http_code}' `);
    const r = await run('bash', ['-c', cmd], { cwd }).catch((e) => e as { stdout: string });
    const code = Number(String(r.stdout).trim().slice(-3));
    statuses.push([ex.replace(/\s+/g, ' ').slice(0, 120), code]);
    t.ok(code > 0 && code < 500, `${code} ← ${ex.replace(/\s+/g, ' ').slice(0, 100)}`);
  }
  const first = (re: RegExp) => statuses.find(([e]) => re.test(e))?.[1];
  t.equal(first(/auth\/token/), 200, 'sign-in');
  t.equal(statuses.filter(([e, s]) => /events\/ingest/.test(e) && s === 202).length, 2, 'both ingest examples accepted (the "{...}" placeholder one is a 400)');
  t.equal(first(/-X POST http:\/\/\S+\/config\/cameras /), 201, 'camera created');
  t.equal(first(/-X DELETE \S+\/config\/cameras\/cam-001/), 204, 'camera deleted');
  t.equal(first(/-X PUT \S+\/config\/exporters\/exporter-001/), 200, 'exporter updated');
  t.equal(first(/-X POST http:\/\/\S+\/config\/zones /), 201, 'zone created (its camera was deleted by the example before: zones may name any camera)');
  t.equal(first(/-X PUT \S+\/config\/zones\/zone-001/), 200, 'zone updated');
  t.equal(first(/Upgrade: websocket/), 101, 'the WebSocket upgrade example');
});
