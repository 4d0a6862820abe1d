/**
 * Seeded property test of the whole input boundary: at least 10,000 hostile requests per run
 * across every route the app registers (enumerated from the app itself, so a new route is
 * fuzzed without touching this file), with deep JSON, bodies around and over the size limits,
 * odd encodings, control characters, bad path parameters and query strings, and bad or no
 * credentials. No answer may be a 5xx (the one exception is the contract's 503 of a camera
 * probe that could not reach the camera), every error answer carries the contract's error
 * body, and the service still answers /healthz afterwards.
 *
 * Replay: the seed is printed; `FUZZ_SEED=<seed> npx tap test/cloud/bad-input-fuzz.test.ts`
 * sends the same requests (FUZZ_CONCURRENCY=1 also sends them in the same order, so the
 * state they build up is the same). FUZZ_REQUESTS sets the count.
 */
import t from 'tap';
import { startTestCloud, event, makeJpeg, type TestCloud } from './helpers.js';
import { prng } from '../fixtures/prng.js';
import { buildApp } from '../../cloud/app.js';
import { Agent, FormData as UndiciFormData, request } from 'undici';
import { Readable } from 'node:stream';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000_000);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 8);

/**
 * Routes whose every well-formed request costs a process (ffmpeg/ffprobe, the recognizer) or
 * a password hash (scrypt, ~50 ms of CPU by design): fuzzed a tenth as often as the others.
 */
const COSTLY = /\/(test|snapshot)$|^\/recognize$|^\/auth\/(token|login)$|^\/users/;
/** The contract's answer when a camera probe cannot reach the camera (cloud/routes/config.ts, snapshot.ts). */
const PROBE_503 = /^\/config\/(cameras|exporters)\/[^/]+\/(test|snapshot)$/;

interface Req {
  i: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | UndiciFormData | 'stream';
  streamBytes?: Uint8Array;
  what: string;
}

t.test(`≥ ${REQUESTS} hostile requests on every route: no 5xx (seed ${SEED})`, async (t) => {
  t.comment(`FUZZ_SEED=${SEED}`);
  const c = await startTestCloud(t);
  const routes = routesOf(c);
  t.ok(routes.length >= 50, `${routes.length} routes enumerated from the app`);

  // Something for ids to hit, so PUT, DELETE, PATCH and the probes reach their validation.
  const viewer = await c.addUser('viewer1', 'viewer-password', 'viewer');
  const operator = await c.addUser('operator1', 'operator-password', 'operator');
  await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: { id: 'cam-001', name: 'C', rtsp_url: 'rtsp://127.0.0.1:9/s' } });
  await c.req('/config/exporters', { method: 'POST', token: c.adminToken, json: { id: 'exp-1', name: 'E', type: 'webhook', url: 'http://127.0.0.1:9/hook' } });
  const fd = new FormData();
  fd.set('event', JSON.stringify(event('evt-1')));
  fd.set('frame', new Blob([new Uint8Array(makeJpeg())], { type: 'image/jpeg' }), 'f.jpg');
  t.equal((await c.req('/events/ingest', { method: 'POST', key: c.apiKey, body: fd })).status, 202);

  const gen = generator(SEED, routes, { admin: c.adminToken, viewer, operator, apiKey: c.apiKey });
  const reqs = Array.from({ length: REQUESTS }, (_, i) => gen(i));
  const hit = new Map<string, number>();
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < reqs.length && failures.length < 10) {
      const r = reqs[next++]!;
      const key = `${r.method} ${r.path.split('?')[0]}`;
      const verdict = await send(c, r);
      hit.set(r.what.split(' | ')[0]!, (hit.get(r.what.split(' | ')[0]!) ?? 0) + 1);
      statuses.set(verdict.status, (statuses.get(verdict.status) ?? 0) + 1);
      if (verdict.problem) failures.push(`#${r.i} ${key} [${r.what}] → ${verdict.status}: ${verdict.problem}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  await agent.close();
  t.same(failures, [], `no 5xx and every error in the contract's body (replay: FUZZ_SEED=${SEED} FUZZ_CONCURRENCY=1)`);
  t.equal(next, REQUESTS, `${next} requests sent`);
  const missed = routes.filter((r) => !hit.has(`${r.method} ${r.path}`)).map((r) => `${r.method} ${r.path}`);
  t.same(missed, [], 'every route was fuzzed');
  t.comment(`statuses: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}`);
  const h = await c.req('/healthz');
  t.equal(h.status, 200, 'still healthy afterwards');
  t.equal((await c.req('/events/evt-1', { token: c.adminToken })).status, 200, 'the data is still there');
});

/** Every method + path the app registers (middleware excluded). */
function routesOf(c: TestCloud): Array<{ method: string; path: string }> {
  const seen = new Map<string, { method: string; path: string }>();
  for (const r of buildApp(c.ctx).routes) {
    if (r.method === 'ALL') continue;
    seen.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
  }
  return [...seen.values()];
}

/** undici's request API: a fraction of fetch's cost per request, so the run fits in its time. */
const agent = new Agent({ connections: 16 });

async function send(c: TestCloud, r: Req): Promise<{ status: number; problem?: string }> {
  let body: string | Uint8Array | UndiciFormData | Readable | undefined;
  if (r.body === 'stream') {
    const bytes = r.streamBytes!;
    // No Content-Length: the body is sent chunked and has to be counted while it streams.
    body = Readable.from((function* () {
      for (let o = 0; o < bytes.length; o += 16_384) yield bytes.subarray(o, o + 16_384);
    })());
  } else body = r.body as typeof body;
  let status: number;
  let text: string;
  try {
    const res = await request(c.url + r.path, { method: r.method as 'GET', headers: r.headers, body, dispatcher: agent });
    status = res.statusCode;
    text = await res.body.text();
  } catch (e) {
    // A 413 closes the connection: the client may see that before the answer.
    const code = (e as { code?: string }).code;
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') return { status: 0 };
    return { status: -1, problem: `request failed: ${(e as Error).message} ${code ?? ''}` };
  }
  const res = { status };
  const path = r.path.split('?')[0]!;
  if (res.status >= 500 && !(res.status === 503 && PROBE_503.test(path))) return { status: res.status, problem: text.slice(0, 300) };
  if (res.status >= 400 && !(res.status === 503 && PROBE_503.test(path)) && r.method !== 'HEAD') {
    let b: { detail?: unknown; error_code?: unknown; request_id?: unknown } | null = null;
    try {
      b = JSON.parse(text);
    } catch {
      /* reported below */
    }
    if (typeof b?.detail !== 'string' || typeof b?.error_code !== 'string' || typeof b?.request_id !== 'string') {
      return { status: res.status, problem: `not the contract's error body: ${text.slice(0, 200)}` };
    }
  }
  return { status: res.status };
}

/** Request `i` of the run: a pure function of the seed and `i`. */
function generator(seed: number, routes: Array<{ method: string; path: string }>, creds: { admin: string; viewer: string; operator: string; apiKey: string }) {
  const weighted = routes.flatMap((r) => (COSTLY.test(r.path) ? [r] : [r, r, r, r, r, r, r, r, r, r]));
  const enc = new TextEncoder();
  return (i: number): Req => {
    const rand = prng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const chance = (p: number) => rand() < p;
    // Every route comes up in the first rounds; after that, by weight.
    const route = i < routes.length * 3 ? routes[i % routes.length]! : pick(weighted);
    const parts: string[] = [];

    const path = route.path.replace(/:(\w+)/g, () => {
      const v = pick(PARAMS);
      parts.push(`param=${JSON.stringify(v)}`);
      return v;
    });
    const q = chance(0.4) ? query(rand, pick, chance) : '';
    if (q) parts.push(`query=${q.slice(0, 60)}`);

    const headers: Record<string, string> = {};
    const a = rand();
    if (a < 0.45) headers.authorization = `Bearer ${creds.admin}`;
    else if (a < 0.55) headers.authorization = `Bearer ${creds.viewer}`;
    else if (a < 0.62) headers.authorization = `Bearer ${creds.operator}`;
    else if (a < 0.8) headers['x-api-key'] = creds.apiKey;
    else if (a < 0.92) {
      const bad = pick(BAD_AUTH);
      headers[bad[0]] = bad[1];
    }
    parts.unshift(`auth=${Object.keys(headers)[0] ?? 'none'}`);

    let body: Req['body'];
    let streamBytes: Uint8Array | undefined;
    // fetch sends no body with a GET (test/cloud/input-body-limit.test.ts sends them).
    if (route.method !== 'GET') {
      const kind = rand();
      let text: string | Uint8Array;
      let type = pick(JSON_TYPES);
      if (kind < 0.3) {
        text = JSON.stringify(mutate(template(route.path), rand, pick));
        parts.push('body=mutated template');
      } else if (kind < 0.45) {
        text = deepJson(rand, pick);
        parts.push('body=deep');
      } else if (kind < 0.55) {
        text = JSON.stringify(flat(rand, pick));
        parts.push('body=random object');
      } else if (kind < 0.65) {
        text = pick(WEIRD_BODIES);
        parts.push('body=weird');
      } else if (kind < 0.75) {
        text = encoded(JSON.stringify(mutate(template(route.path), rand, pick)), rand, pick);
        type = pick(['application/json; charset=utf-16le', 'application/json; charset=latin1', 'application/json', 'text/plain; charset=utf-8']);
        parts.push('body=odd encoding');
      } else if (kind < 0.83) {
        // Around and over the size limits (the JSON limit is 64 KiB).
        const size = pick([60_000, 65_536, 65_537, 70_000, 300_000]);
        text = `{"pad":"${'a'.repeat(size)}"}`;
        parts.push(`body=${size} bytes`);
      } else {
        const form = new UndiciFormData();
        const n = 1 + Math.floor(rand() * 3);
        for (let k = 0; k < n; k++) {
          const name = pick(['event', 'frame', 'crop', 'image', 'other', 'event']);
          if (chance(0.5)) form.append(name, chance(0.5) ? JSON.stringify(mutate(event(`evt-f${i}`), rand, pick)) : pick(WEIRD_BODIES));
          else form.append(name, new Blob([pick(FILES)]), pick(['a.jpg', '../../x', '', 'a\u0000b.png', 'ü'.repeat(100)]));
        }
        body = form;
        parts.push('body=multipart');
      }
      if (body === undefined) {
        if (chance(0.15)) {
          body = 'stream';
          streamBytes = typeof text! === 'string' ? enc.encode(text!) : text!;
          parts.push('chunked');
        } else body = text!;
        if (type) headers['content-type'] = type;
      }
    }
    return { i, method: route.method, path: path + q, headers, body, streamBytes, what: `${route.method} ${route.path} | ${parts.join(' ')}` };
  };
}

const PARAMS = [
  'cam-001', 'evt-1', 'exp-1', 'admin', 'viewer1', 'nope', '', '%00', '%0d%0aX-Injected:%201', '..%2F..%2Fetc%2Fpasswd', '%2e%2e',
  'a'.repeat(300), '%E0%A4%A', '%FF%FE', '%F0%9F%9A%97', 'null', '-1', '1e309', "'%20OR%201=1--", 'index.html', 'swagger-ui.css',
  'app-abcdef12.js', 'app-abcdef12.constructor', 'toString', '%C0%AE%C0%AE', 'x%20y', '__proto__', 'constructor',
];
const QUERY_KEYS = ['skip', 'limit', 'sort_by', 'sort_order', 'start_date', 'end_date', 'min_confidence', 'interval', 'enabled', 'timeout', 'camera_id', 'zone_id', 'plate_text', 'format', 'max_rows', 'type', 'token', 'api_key', 'x'];
const QUERY_VALUES = [
  '', '-1', '0', '1e309', 'NaN', '99999999999999999999', '%00', '%0A', '%FF', '%E0%A4%A', '2023-13-45T99:99:99Z', '2023-12-15', 'true', '1',
  'desc', 'hour', 'csv', 'ABC123', '%25', 'a'.repeat(2000), '%F0%9F%9A%97', '[]', '{}',
];
function query(rand: () => number, pick: <T>(xs: readonly T[]) => T, chance: (p: number) => boolean): string {
  const n = 1 + Math.floor(rand() * 4);
  const out: string[] = [];
  for (let k = 0; k < n; k++) out.push(`${pick(QUERY_KEYS)}${chance(0.1) ? '[]' : ''}=${pick(QUERY_VALUES)}`);
  return `?${out.join('&')}`;
}

const BAD_AUTH: Array<[string, string]> = [
  ['authorization', 'Bearer'],
  ['authorization', 'Bearer x.y.z'],
  ['authorization', 'Basic YWRtaW46eA=='],
  ['authorization', `Bearer ${'a'.repeat(8000)}`],
  ['authorization', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiIsInJvbGUiOiJhZG1pbiJ9.'],
  ['x-api-key', ''.padEnd(64, 'z')],
  ['x-api-key', 'anpr_%00'],
];
const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/xml', '', 'multipart/form-data', 'multipart/form-data; boundary=x'];
const WEIRD_BODIES = [
  '', ' ', 'null', '[]', '{}', '"x"', '-1', '1e309', 'NaN', '{"a":', '{"a":1,"a":2}', 'true', '\u0000', '\ufeff{}', '{"__proto__":{"role":"admin"}}',
  '{"constructor":{"prototype":{"x":1}}}', '{"metadata":{"__proto__":[]}}', '[' .repeat(100), '{"\\ud800":"\\udfff"}', '{"a":"\\u0000"}', '9'.repeat(400),
];
const FILES = [new Uint8Array(0), new Uint8Array([0xff, 0xd8, 0xff]), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), new TextEncoder().encode('GIF89a'), new Uint8Array(70_000)];

/** A plausible body for the route, so mutations get past the first checks. */
function template(path: string): Record<string, unknown> {
  if (path.startsWith('/events/ingest')) return event('evt-x');
  if (path.startsWith('/events/')) return { plate_text: 'ABC124', reason: 'misread' };
  if (path.startsWith('/auth/refresh') || path.startsWith('/auth/logout')) return { refresh_token: 'x' };
  if (path.startsWith('/auth')) return { username: 'admin', password: 'wrong-password' };
  if (path.startsWith('/config/cameras')) return { name: 'Gate', rtsp_url: 'rtsp://127.0.0.1:9/s', fps: 5, metadata: { recognition: { regions: ['br'], roi: { x: 0, y: 0, width: 100, height: 100 } } } };
  if (path.startsWith('/config/zones')) return { name: 'Z', camera_id: 'cam-001', geometry: { type: 'polygon', points: [{ x: 0, y: 0 }, { x: 9, y: 0 }, { x: 0, y: 9 }] } };
  if (path.startsWith('/config/models')) return { name: 'M', type: 'ocr', weights_path: 'w.onnx', parameters: { input_size: 64 } };
  if (path.startsWith('/config/sensors')) return { name: 'S', type: 'loop', config: { pin: 4 } };
  if (path.startsWith('/config/exporters')) return { name: 'E', type: 'mqtt', url: 'mqtt://127.0.0.1:9', config: { topic: 'anpr/x' }, headers: { 'X-A': 'b' } };
  if (path.startsWith('/users')) return { username: 'fuzz', password: 'long-enough-password', role: 'viewer' };
  if (path.startsWith('/api-keys')) return { name: 'k' };
  return {};
}

const HOSTILE: unknown[] = [
  null, true, -1, 1.5, 1e308, -0, '', 'x', 'A'.repeat(5000), 'rtsp://127.0.0.1:9/a\u0000b', 'http://127.0.0.1:9/\r\nX: 1', 'a\u001b[31m', '\u0000',
  '../../etc/passwd', 'ü'.repeat(300), '\ud800', '2023-12-15T14:30:45.123Z', [], {}, [1, 'a'], { nested: { deep: [null] } }, JSON.parse('{"__proto__":1}'),
];
/** One field of `obj` (maybe nested) replaced by something hostile. */
function mutate(obj: Record<string, unknown>, rand: () => number, pick: <T>(xs: readonly T[]) => T): Record<string, unknown> {
  const out = structuredClone(obj);
  // A fresh copy each time: the constants are never changed, and no value is put inside itself.
  const hostile = () => structuredClone(pick(HOSTILE));
  const n = 1 + Math.floor(rand() * 2);
  for (let k = 0; k < n; k++) {
    const keys = Object.keys(out);
    const key = keys.length && rand() < 0.8 ? pick(keys) : pick(['metadata', 'config', 'extra', 'id', 'parameters']);
    const cur = out[key];
    if (cur && typeof cur === 'object' && !Array.isArray(cur) && rand() < 0.5) {
      const inner = cur as Record<string, unknown>;
      const ik = Object.keys(inner).length && rand() < 0.7 ? pick(Object.keys(inner)) : 'x';
      inner[ik] = rand() < 0.2 ? deepValue(1 + Math.floor(rand() * 80), pick) : hostile();
    } else out[key] = rand() < 0.15 ? deepValue(1 + Math.floor(rand() * 80), pick) : hostile();
  }
  return out;
}

/** A value `depth` levels deep, built without recursion. */
function deepValue(depth: number, pick: <T>(xs: readonly T[]) => T): unknown {
  let v: unknown = pick([1, 'x', null, []]);
  for (let d = 0; d < depth; d++) v = pick(['a', 'o']) === 'a' ? [v] : { k: v };
  return v;
}

/** JSON text nested up to 20,000 levels (as text: JSON.stringify itself would overflow). */
function deepJson(rand: () => number, pick: <T>(xs: readonly T[]) => T): string {
  const depth = pick([33, 65, 100, 1000, 2700, 12_000, 20_000]);
  const open = pick(['[', '{"a":']);
  const close = open === '[' ? ']' : '}';
  const inner = open.repeat(depth) + '1' + close.repeat(depth);
  const field = pick(['metadata', 'config', 'parameters', 'username', 'plate_text', 'headers', 'x']);
  return rand() < 0.2 ? inner : `{"name":"n","event_id":"evt-d","plate_text":"AB1","type":"loop","${field}":{"k":${inner}}}`;
}

function flat(rand: () => number, pick: <T>(xs: readonly T[]) => T): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const keys = ['event_id', 'plate_text', 'name', 'rtsp_url', 'url', 'type', 'username', 'password', 'role', 'metadata', 'config', 'geometry', 'camera_id', 'refresh_token', 'disabled', 'id'];
  for (let k = 0; k < 1 + Math.floor(rand() * 6); k++) o[pick(keys)] = pick(HOSTILE);
  return o;
}

/** The same text in an encoding the service may not expect (UTF-16, Latin-1, a BOM, broken UTF-8). */
function encoded(text: string, rand: () => number, pick: <T>(xs: readonly T[]) => T): Uint8Array {
  const how = pick(['utf16le', 'latin1', 'bom', 'broken']);
  if (how === 'utf16le') return new Uint8Array(Buffer.from(`\ufeff${text}`, 'utf16le'));
  if (how === 'latin1') return new Uint8Array(Buffer.from(text.replace(/"x"/, '"ÿé"'), 'latin1'));
  if (how === 'bom') return new Uint8Array(Buffer.from(`\ufeff${text}`, 'utf8'));
  const b = Buffer.from(text, 'utf8');
  const at = Math.floor(rand() * b.length);
  return new Uint8Array(Buffer.concat([b.subarray(0, at), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), b.subarray(at)]));
}
