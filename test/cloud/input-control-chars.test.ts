/**
 * Item 5 of the hardening issue (cloud side): a NUL or another control character in a value
 * that reaches a process, a URL, a header or a file name is a 400 naming the field, and a
 * stored one (from before this check) makes the camera test a failed probe, never a 500.
 */
import t from 'tap';
import { startTestCloud } from './helpers.js';
import { runTool } from '../../cloud/probes/run-tool.js';

const CONTROLS = ['\u0000', '\r\n', '\u001b', '\u007f', '\t'];

t.test('control characters in strings that reach processes, URLs, headers or files: 400 naming the field', async (t) => {
  const c = await startTestCloud(t);
  const cases: Array<[string, string, (bad: string) => Record<string, unknown>]> = [
    ['cameras', 'rtsp_url', (b) => ({ name: 'C', rtsp_url: `rtsp://127.0.0.1:9/a${b}b` })],
    ['cameras', 'name', (b) => ({ name: `C${b}x`, rtsp_url: 'rtsp://127.0.0.1:9/s' })],
    ['cameras', 'ocr_models.0', (b) => ({ name: 'C', rtsp_url: 'rtsp://127.0.0.1:9/s', ocr_models: [`m${b}`] })],
    ['models', 'weights_path', (b) => ({ name: 'M', type: 'ocr', weights_path: `w${b}.onnx` })],
    ['exporters', 'url', (b) => ({ name: 'E', type: 'webhook', url: `http://127.0.0.1:9/h${b}x` })],
    ['exporters', 'headers.X-Token', (b) => ({ name: 'E', type: 'webhook', url: 'http://127.0.0.1:9/h', headers: { 'X-Token': `v${b}Injected: 1` } })],
    ['exporters', 'auth.token', (b) => ({ name: 'E', type: 'rest', url: 'http://127.0.0.1:9/h', auth: { type: 'bearer', token: `t${b}` } })],
    ['exporters', 'config.topic', (b) => ({ name: 'E', type: 'mqtt', url: 'mqtt://127.0.0.1:9', config: { topic: `anpr/${b}` } })],
  ];
  for (const [kind, field, body] of cases) {
    for (const ctl of CONTROLS) {
      const r = await c.req(`/config/${kind}`, { method: 'POST', token: c.adminToken, json: body(ctl) });
      const b = await r.json();
      t.equal(r.status, 400, `${kind} ${field} with ${JSON.stringify(ctl)}: 400`);
      t.ok(
        b.errors?.some((e: { field: string; message: string }) => e.field === field && /control characters/.test(e.message)),
        `${kind} ${field}: the error names the field (${JSON.stringify(b.errors)})`,
      );
    }
    const list = await (await c.req(`/config/${kind}`, { token: c.adminToken })).json();
    t.equal(list.total, 0, `no ${kind} stored`);
  }
  // A PUT that would merge one in is refused the same way, and changes nothing.
  const cam = await (await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: { name: 'C', rtsp_url: 'rtsp://127.0.0.1:9/s' } })).json();
  const put = await c.req(`/config/cameras/${cam.id}`, { method: 'PUT', token: c.adminToken, json: { rtsp_url: 'rtsp://127.0.0.1:9/\u0000' } });
  t.equal(put.status, 400);
  t.equal((await (await c.req(`/config/cameras/${cam.id}`, { token: c.adminToken })).json()).rtsp_url, 'rtsp://127.0.0.1:9/s', 'unchanged');
});

t.test('a camera stored with a NUL in its URL: /test and /snapshot answer a failed probe, never a 500', async (t) => {
  const c = await startTestCloud(t);
  // Stored directly, as a row written before the schema refused it would be.
  const cam = await c.ctx.config.create('cameras', { name: 'old', rtsp_url: 'rtsp://user:secret@127.0.0.1:9/a\u0000b', enabled: true });
  const test = await c.req(`/config/cameras/${cam.id}/test?timeout=2`, { method: 'POST', token: c.adminToken });
  const tb = await test.json();
  t.equal(test.status, 503, 'the contract\'s failed-probe answer');
  t.equal(tb.status, 'failed');
  t.notMatch(JSON.stringify(tb), /secret/, 'the password does not leak through the reason');
  const snap = await c.req(`/config/cameras/${cam.id}/snapshot?timeout=2`, { token: c.adminToken });
  t.equal(snap.status, 503, 'snapshot: 503 SERVICE_UNAVAILABLE');
  t.equal((await snap.json()).error_code, 'SERVICE_UNAVAILABLE');
  t.equal((await c.req('/healthz')).status, 200);
});

t.test('runTool never throws: an argument spawn refuses is a failed result', async (t) => {
  const r = await runTool('ffprobe', ['-i', 'rtsp://u:secret@127.0.0.1/\u0000'], 1);
  t.equal(r.code, null);
  t.match(r.spawnError, /NUL/);
  t.notMatch(r.spawnError!, /secret/, 'the arguments are not quoted back');
  const missing = await runTool('/nonexistent/tool', [], 1);
  t.match(missing.spawnError, /ENOENT/, 'a missing tool is a failed result too');
});
