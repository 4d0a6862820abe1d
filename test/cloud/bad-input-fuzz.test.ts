/**
 * Time-boxed property test: random, malformed and hostile input to every route never gets a
 * 5xx, and every error answer carries the contract's error body. Seeded, so a failure is
 * reproducible (the seed is printed).
 */
import t from 'tap';
import { startTestCloud } from './helpers.js';
import { prng as rng } from '../fixtures/prng.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

t.test(`random bad input never causes a 5xx (seed ${SEED})`, async (t) => {
  const c = await startTestCloud(t);
  const rand = rng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const weird = ['', ' ', 'null', '[]', '{}', '"x"', '-1', '1e309', 'NaN', '../../etc/passwd', '%00', "'; DROP TABLE events;--", 'ü'.repeat(300), '\u0000', '{"a":', 'true', '9'.repeat(40), '2023-13-45T99:99:99Z'];
  const values: unknown[] = [null, true, -1, 1.5, 1e308, 'x', '', [], {}, [1, 'a'], { nested: { deep: [null] } }, 'A'.repeat(5000), -0, '2023-12-15T14:30:45.123Z'];
  const fields = ['event_id', 'plate_text', 'confidence', 'timestamp', 'camera_id', 'zone_id', 'raw_candidates', 'metadata', 'vehicle_info', 'name', 'rtsp_url', 'geometry', 'type', 'url', 'auth', 'config', 'fps', 'resolution', 'retry_config', 'username', 'password', 'id'];
  const routes: Array<[string, string]> = [
    ['POST', '/events/ingest'],
    ['GET', '/events'],
    ['GET', '/events/stats'],
    ['GET', '/events/x'],
    ['GET', '/events/x/frame'],
    ['POST', '/auth/token'],
    ['GET', '/healthz/detailed'],
    ...(['cameras', 'zones', 'models', 'sensors', 'exporters'] as const).flatMap((k): Array<[string, string]> => [
      ['GET', `/config/${k}`],
      ['POST', `/config/${k}`],
      ['PUT', `/config/${k}/${k.slice(0, 3)}-001`],
      ['DELETE', `/config/${k}/nope`],
    ]),
    ['POST', '/config/cameras/cam-001/test'],
    ['POST', '/config/exporters/exporter-001/test'],
  ];
  // Something to update, so PUTs reach validation.
  await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: { name: 'C', rtsp_url: 'rtsp://127.0.0.1:9/s' } });

  const deadline = Date.now() + 12_000;
  let n = 0;
  while (Date.now() < deadline) {
    const [method, path] = pick(routes);
    const q = new URLSearchParams();
    for (let i = 0; i < Math.floor(rand() * 4); i++) q.set(pick([...fields, 'skip', 'limit', 'sort_by', 'sort_order', 'start_date', 'end_date', 'min_confidence', 'interval', 'enabled', 'timeout']), pick(weird));
    const headers: Record<string, string> = {};
    const auth = rand();
    if (auth < 0.6) headers.authorization = `Bearer ${c.adminToken}`;
    else if (auth < 0.8) headers['x-api-key'] = c.apiKey;
    else if (auth < 0.9) headers.authorization = pick(['Bearer', 'Bearer x.y.z', 'Basic abc', 'Bearer ' + 'a'.repeat(5000)]);
    let body: string | FormData | undefined;
    if (method !== 'GET' && method !== 'DELETE') {
      const kind = rand();
      if (kind < 0.5) {
        const obj: Record<string, unknown> = {};
        for (let i = 0; i < 1 + Math.floor(rand() * 6); i++) obj[pick(fields)] = pick(values);
        body = JSON.stringify(obj);
        headers['content-type'] = pick(['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded']);
      } else if (kind < 0.75) {
        body = pick(weird);
        headers['content-type'] = 'application/json';
      } else {
        const fd = new FormData();
        fd.set(pick(['event', 'frame', 'crop', 'other']), pick(weird));
        if (rand() < 0.5) fd.set(pick(['frame', 'crop']), new Blob([Buffer.from(pick(weird))]), pick(['a.jpg', '../x', '']));
        body = fd;
      }
    }
    const res = await fetch(`${c.url}${path}${q.size ? `?${q}` : ''}`, { method, headers, body });
    n++;
    const text = await res.text();
    if (res.status >= 500 && !(res.status === 503 && /\/test/.test(path))) {
      t.fail(`${method} ${path}?${q} → ${res.status}: ${text.slice(0, 300)}`);
      break;
    }
    if (res.status >= 400 && res.status !== 503) {
      const b = JSON.parse(text);
      if (typeof b.detail !== 'string' || typeof b.error_code !== 'string' || typeof b.request_id !== 'string') {
        t.fail(`${method} ${path} → ${res.status} without the error body: ${text.slice(0, 200)}`);
        break;
      }
    }
  }
  t.ok(n > 50, `${n} random requests, no 5xx`);
  const h = await c.req('/healthz');
  t.equal(h.status, 200, 'still healthy afterwards');
});
