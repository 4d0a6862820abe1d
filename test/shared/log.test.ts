import t from 'tap';
import { spawn } from 'node:child_process';
import { createLogger, redactUrl, logFormat } from '../../shared/log.js';
import { formatPretty } from '../../shared/log-pretty.js';
import { redactSecrets, maskedFields } from '../../shared/redact.js';

t.test('redactUrl masks credentials in any URL scheme', async (t) => {
  t.equal(redactUrl('rtsp://admin:s3cret@127.0.0.1:554/stream1'), 'rtsp://***:***@127.0.0.1:554/stream1');
  t.equal(redactUrl('failed mqtt://user:pw@127.0.0.1:1883 now'), 'failed mqtt://***:***@127.0.0.1:1883 now');
  t.equal(redactUrl('http://127.0.0.1:8000/x'), 'http://127.0.0.1:8000/x', 'no credentials, unchanged');
  t.notMatch(redactUrl('rtsp://user@127.0.0.1/a'), /user@/);
});

t.test('redactUrl: the userinfo ends at the last @ before the host, as URL parsers read it', async (t) => {
  t.equal(redactUrl('rtsp://u:Pa@ss@h/x'), 'rtsp://***:***@h/x', 'no password fragment is left');
  t.equal(redactUrl('rtsp://u:a@b:c@10.0.0.1:554/s then rtsp://v:w@h2'), 'rtsp://***:***@10.0.0.1:554/s then rtsp://***:***@h2');
  t.equal(redactUrl('http://h/p?x=a@b'), 'http://h/p?x=a@b', 'an @ after the path is not userinfo');
  t.equal(redactUrl('see "http://u:p@h:1/x"'), 'see "http://***:***@h:1/x"');
});

t.test('redactUrl: credential-like query values are masked, others kept', async (t) => {
  t.equal(redactUrl('http://h/x?token=abc&site=1&api_key=k&Password=p#f'), 'http://h/x?token=***&site=1&api_key=***&Password=***#f');
  t.equal(redactUrl('rtsp://h/s?user=admin&pwd=123&channel=2'), 'rtsp://h/s?user=admin&pwd=***&channel=2');
  t.equal(redactUrl('wss://h/events/stream?access_token=a.b.c'), 'wss://h/events/stream?access_token=***');
  t.equal(redactUrl('http://h/x?sig=zz&expires=5'), 'http://h/x?sig=***&expires=5');
});

t.test('redactSecrets: credential-like keys at any depth, headers by allowlist, URLs in strings; input untouched', async (t) => {
  const input = { cfg: { cloud: { api_key: 'K1', url: 'https://h' }, cameras: [{ rtsp_url: 'rtsp://u:p@h/s', password: 'P' }] }, headers: { 'content-type': 'a/b', 'x-weird': 'S' }, apiKey: 'K2', clientSecret: 'S2', count: 3 };
  const copy = structuredClone(input);
  const out = redactSecrets(input, '#');
  t.same(out, { cfg: { cloud: { api_key: '#', url: 'https://h' }, cameras: [{ rtsp_url: 'rtsp://***:***@h/s', password: '#' }] }, headers: { 'content-type': 'a/b', 'x-weird': '#' }, apiKey: '#', clientSecret: '#', count: 3 });
  t.same(input, copy, 'the input is not modified');
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  t.same(redactSecrets(cyclic), { a: 1, self: '[…]' }, 'cycles are cut');
  t.same(maskedFields({ a: '********', b: { c: 'rtsp://***:***@h' }, d: 'http://h/?token=***', e: 'fine', f: '[redacted]' }), ['a', 'b.c', 'd', 'f']);
});

/** A logger writing to memory, as JSON lines. */
function captured(format: 'json' | 'pretty' = 'json', isTTY = false) {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', destination: { isTTY, write: (s: string) => lines.push(s) }, format: isTTY ? undefined : format });
  return { log, lines };
}

t.test('logs: nested secrets, URLs in messages and errors, child bindings: all masked', async (t) => {
  const { log, lines } = captured();
  log.info({ cfg: { cloud: { api_key: 'KEY-1', url: 'https://127.0.0.1' }, exporters: [{ auth: { token: 'TOK-2' }, headers: { Authorization: 'Bearer HDR-3' } }] } }, 'config loaded');
  log.warn('connecting to rtsp://cam:Pa@ss@127.0.0.1/s failed');
  const err = Object.assign(new Error('connect ECONNREFUSED mqtt://u:MQ-4@127.0.0.1:1883'), { password: 'PW-5' });
  log.error({ err }, 'exporter failed');
  log.child({ component: 'capture', url: 'rtsp://u:CH-6@127.0.0.1/s' }).info('camera started');
  const text = lines.join('');
  for (const s of ['KEY-1', 'TOK-2', 'HDR-3', 'ss@127', 'MQ-4', 'PW-5', 'CH-6']) t.notOk(text.includes(s), `'${s}' never logged`);
  const [first, second, third, fourth] = lines.map((l) => JSON.parse(l));
  t.equal(first.cfg.cloud.api_key, '[redacted]');
  t.equal(first.cfg.cloud.url, 'https://127.0.0.1', 'non-secret fields kept');
  t.equal(second.msg, 'connecting to rtsp://***:***@127.0.0.1/s failed');
  t.match(third.err, { type: 'Error', message: 'connect ECONNREFUSED mqtt://***:***@127.0.0.1:1883', password: '[redacted]' });
  t.notMatch(third.err.stack, /MQ-4/);
  t.match(fourth, { component: 'capture', url: 'rtsp://***:***@127.0.0.1/s', msg: 'camera started' });
});

t.test('logs: readable lines on a terminal, JSON lines otherwise', async (t) => {
  t.equal(logFormat({ isTTY: true }, undefined, {}), 'pretty');
  t.equal(logFormat({ isTTY: false }, undefined, {}), 'json');
  t.equal(logFormat({ isTTY: true }, undefined, { ANPR_LOG_FORMAT: 'json' }), 'json', 'ANPR_LOG_FORMAT overrides');
  const tty = captured('pretty', true);
  tty.log.child({ component: 'stream' }).info({ who: 'user:admin', camera_id: 'cam-001', note: 'two words', password: 'PW' }, 'subscriber connected');
  tty.log.error({ err: new Error('boom') }, 'failed');
  const plain = tty.lines.join('').replace(/\x1b\[[0-9;]*m/g, '');
  t.match(plain, /^\d\d:\d\d:\d\d\.\d{3} INFO  \[stream\] subscriber connected who=user:admin camera_id=cam-001 note="two words" password=\[redacted\]\n/);
  t.match(plain, /\d\d:\d\d:\d\d\.\d{3} ERROR failed\n {4}Error: boom\n {8}at /, 'the stack follows, indented');
  t.notMatch(plain, /"level"|"pid"|hostname/, 'no JSON on a terminal');
  const pipe = captured('json', false);
  pipe.log.info({ a: 1 }, 'hello');
  t.match(JSON.parse(pipe.lines[0]!), { level: 30, msg: 'hello', a: 1 }, 'JSON lines to a pipe');
  t.equal(formatPretty('not json'), 'not json\n', 'anything else passes through');
});

t.test('logs: a process on a real terminal prints readable lines, the same process piped prints JSON', async (t) => {
  const code = "import('./shared/log.ts').then((m) => m.createLogger({ name: 'x' }).info({ camera: 'cam-1' }, 'hello tty'))";
  const run = (cmd: string, args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const p = spawn(cmd, args, { cwd: process.cwd(), env: { ...process.env, NO_COLOR: '1', ANPR_LOG_FORMAT: '' }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.on('error', reject);
      p.on('close', () => resolve(out));
    });
  const node = [process.execPath, '--import', 'tsx', '-e', code];
  const piped = await run(node[0]!, node.slice(1));
  t.match(JSON.parse(piped.trim()), { msg: 'hello tty', camera: 'cam-1', level: 30 });
  // util-linux `script` gives the child a pseudo-terminal for its stdout.
  const quoted = node.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const onTty = await run('script', ['-qec', quoted, '/dev/null']);
  t.match(onTty.replace(/\r/g, ''), /^\d\d:\d\d:\d\d\.\d{3} INFO  hello tty camera=cam-1$/m);
});
