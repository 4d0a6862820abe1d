import t from 'tap';
import type { Test } from 'tap';
import { startTestCloud, event } from './helpers.js';

// A deterministic spread of events over two days, three cameras, two zones.
const T0 = Date.parse('2024-03-04T10:00:00.000Z');
const PLATES = ['ABC123', 'XYZ789', 'ABD456', 'KLM001', 'AB1234'];
const data = Array.from({ length: 120 }, (_, i) => ({
  event_id: `evt-${String(i).padStart(3, '0')}`,
  ts: T0 + i * 23 * 60_000 + (i % 7) * 1_000,
  camera_id: `cam-00${(i % 3) + 1}`,
  zone_id: i % 4 === 0 ? null : `zone-${i % 2 ? 'a' : 'b'}`,
  plate_text: PLATES[i % PLATES.length]!,
  confidence: i % 10 === 9 ? null : Math.round((0.5 + (i % 50) / 100) * 100) / 100,
}));
const iso = (ms: number) => new Date(ms).toISOString();

type Row = (typeof data)[number];

async function seeded(t: Test) {
  const c = await startTestCloud(t);
  for (const d of data) {
    const r = await c.req('/events/ingest', {
      method: 'POST',
      key: c.apiKey,
      json: event(d.event_id, { timestamp: iso(d.ts), camera_id: d.camera_id, zone_id: d.zone_id, plate_text: d.plate_text, confidence: d.confidence }),
    });
    if (r.status !== 202) throw new Error(`seed failed ${r.status}`);
  }
  return c;
}

t.test('GET /events: filters, sorting and paging agree with a straightforward filter of the data', async (t) => {
  const c = await seeded(t);
  const list = async (q: string) => {
    const r = await c.req(`/events?${q}`, { token: c.adminToken });
    t.equal(r.status, 200, q);
    return (await r.json()) as { items: Array<{ event_id: string; confidence: number | null; plate_text: string; timestamp: string }>; total: number; skip: number; limit: number };
  };
  const ids = (rows: Row[]) => rows.map((r) => r.event_id);
  const byTsDesc = [...data].sort((a, b) => b.ts - a.ts);

  let r = await list('');
  t.equal(r.total, 120);
  t.equal(r.limit, 100);
  t.same(r.items.map((i) => i.event_id), ids(byTsDesc.slice(0, 100)), 'default: newest first, 100');

  r = await list('camera_id=cam-002&limit=50&sort_order=desc');
  const cam2 = byTsDesc.filter((d) => d.camera_id === 'cam-002');
  t.equal(r.total, cam2.length);
  t.same(r.items.map((i) => i.event_id), ids(cam2.slice(0, 50)));

  r = await list('zone_id=zone-a&sort_order=asc&skip=5&limit=7');
  const za = [...data].filter((d) => d.zone_id === 'zone-a').sort((a, b) => a.ts - b.ts);
  t.equal(r.total, za.length);
  t.same(r.items.map((i) => i.event_id), ids(za.slice(5, 12)), 'paging');

  for (const q of ['AB', 'ab1', 'BD4', 'Z78', '123']) {
    r = await list(`plate_text=${q}&limit=1000`);
    const want = data.filter((d) => d.plate_text.includes(q.toUpperCase()));
    t.equal(r.total, want.length, `partial plate ${q}`);
    t.same(new Set(r.items.map((i) => i.event_id)), new Set(ids(want)));
  }
  r = await list('plate_text=%25&limit=1000');
  t.equal(r.total, 0, 'LIKE wildcards in user text are literal');

  const start = T0 + 6 * 3_600_000 + 17_000;
  const end = T0 + 20 * 3_600_000 + 5_000;
  r = await list(`start_date=${iso(start)}&end_date=${iso(end)}&limit=1000&sort_by=timestamp&sort_order=asc`);
  const inRange = [...data].filter((d) => d.ts >= start && d.ts <= end).sort((a, b) => a.ts - b.ts);
  t.same(r.items.map((i) => i.event_id), ids(inRange), 'date range, inclusive');

  r = await list('min_confidence=0.8&limit=1000&sort_by=confidence&sort_order=desc');
  const conf = data.filter((d) => d.confidence !== null && d.confidence >= 0.8);
  t.equal(r.total, conf.length);
  const cs = r.items.map((i) => i.confidence!);
  t.same(cs, [...cs].sort((a, b) => b - a), 'sorted by confidence');

  r = await list('sort_by=plate_text&sort_order=asc&limit=1000');
  const ps = r.items.map((i) => i.plate_text);
  t.same(ps, [...ps].sort(), 'sorted by plate');

  r = await list(`camera_id=cam-001&zone_id=zone-b&min_confidence=0.6&start_date=${iso(start)}&limit=1000`);
  t.equal(r.total, data.filter((d) => d.camera_id === 'cam-001' && d.zone_id === 'zone-b' && (d.confidence ?? -1) >= 0.6 && d.ts >= start).length, 'combined filters');
});

t.test('GET /events total: counted from the rollups for camera, zone and time filters, equal to a count of the rows for any bounds', async (t) => {
  const c = await seeded(t);
  let x = 20261205;
  const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) / 4294967296;
  const span = data[data.length - 1]!.ts - data[0]!.ts;
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  for (let i = 0; i < 80; i++) {
    // Bounds to the millisecond: anywhere (inside minutes, hours and days, before and after the
    // data), or within seconds of an event, so the partial minutes at the ends hold events.
    const bound = (from: number) => (rnd() < 0.5 ? pick(data).ts + Math.floor(rnd() * 6_000) - 3_000 : from + Math.floor(rnd() * (span + 7_200_000)));
    const a = rnd() < 0.2 ? undefined : bound(data[0]!.ts - 3_600_000);
    const b = rnd() < 0.2 ? undefined : Math.max(a ?? 0, bound(a ?? data[0]!.ts - 3_600_000));
    const cam = pick([undefined, 'cam-001', 'cam-002', 'cam-003', 'cam-009']);
    const zone = pick([undefined, 'zone-a', 'zone-b']);
    const q = new URLSearchParams({ limit: '1' });
    if (a !== undefined) q.set('start_date', iso(a));
    if (b !== undefined) q.set('end_date', iso(b));
    if (cam) q.set('camera_id', cam);
    if (zone) q.set('zone_id', zone);
    const r = await c.req(`/events?${q}`, { token: c.adminToken });
    const want = data.filter((d) => (a === undefined || d.ts >= a) && (b === undefined || d.ts <= b) && (!cam || d.camera_id === cam) && (!zone || d.zone_id === zone)).length;
    t.equal(((await r.json()) as { total: number }).total, want, q.toString());
  }
});

t.test('GET /events rejects bad parameters with 400 naming them', async (t) => {
  const c = await seeded(t);
  for (const [q, field] of [
    ['limit=1001', 'limit'],
    ['limit=0', 'limit'],
    ['skip=-1', 'skip'],
    ['min_confidence=2', 'min_confidence'],
    ['sort_by=camera', 'sort_by'],
    ['sort_order=up', 'sort_order'],
    ['start_date=yesterday', 'start_date'],
    ['start_date=2024-03-05&end_date=2024-03-04', 'end_date'],
    ['camera=cam-001', 'camera'],
    ['camera_id=../x', 'camera_id'],
  ] as const) {
    const r = await c.req(`/events?${q}`, { token: c.adminToken });
    t.equal(r.status, 400, q);
    const b = await r.json();
    t.ok(b.errors?.some((e: { field: string }) => e.field === field), `${q} names ${field}`);
  }
  t.equal((await c.req('/events', { key: c.apiKey })).status, 401, 'edges cannot search');
  const nf = await c.req('/events/no-such-event', { token: c.adminToken });
  t.equal(nf.status, 404);
  t.equal((await nf.json()).detail, 'Event not found');
});

t.test('GET /events/stats: exact totals, per camera/zone, timeline for each interval, any bounds', async (t) => {
  const c = await seeded(t);
  const stats = async (q: string) => {
    const r = await c.req(`/events/stats?${q}`, { token: c.adminToken });
    t.equal(r.status, 200, q);
    return r.json();
  };
  const expect = (rows: Row[]) => {
    const conf = rows.map((r) => r.confidence).filter((x): x is number => x !== null);
    const avg = (xs: number[]) => (xs.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1e4) / 1e4 : null);
    return { total: rows.length, avg: avg(conf), min: conf.length ? Math.min(...conf) : null, max: conf.length ? Math.max(...conf) : null, plates: new Set(rows.map((r) => r.plate_text)).size, avgOf: avg };
  };

  // Bounds that cut through minutes and hours on both sides.
  const start = T0 + 3 * 3_600_000 + 30 * 60_000 + 2_500;
  const end = T0 + 30 * 3_600_000 + 14 * 60_000 + 3_500;
  for (const [q, rows] of [
    ['', data],
    [`start_date=${iso(start)}&end_date=${iso(end)}`, data.filter((d) => d.ts >= start && d.ts <= end)],
    [`camera_id=cam-003&start_date=${iso(start)}`, data.filter((d) => d.camera_id === 'cam-003' && d.ts >= start)],
    [`zone_id=zone-a&end_date=${iso(end)}`, data.filter((d) => d.zone_id === 'zone-a' && d.ts <= end)],
    [`start_date=${iso(T0 + 60_500)}&end_date=${iso(T0 + 60_900)}`, data.filter((d) => d.ts >= T0 + 60_500 && d.ts <= T0 + 60_900)],
  ] as const) {
    const s = await stats(q);
    const e = expect(rows as Row[]);
    t.equal(s.total_events, e.total, `${q}: total`);
    t.equal(s.avg_confidence, e.avg, `${q}: avg`);
    t.equal(s.min_confidence, e.min, `${q}: min`);
    t.equal(s.max_confidence, e.max, `${q}: max`);
    t.equal(s.unique_plates, e.plates, `${q}: unique plates`);
    const cams = [...new Set((rows as Row[]).map((r) => r.camera_id))].sort();
    t.same(Object.keys(s.by_camera), cams, `${q}: cameras`);
    for (const cam of cams) t.equal(s.by_camera[cam].count, (rows as Row[]).filter((r) => r.camera_id === cam).length);
    const zones = [...new Set((rows as Row[]).map((r) => r.zone_id).filter(Boolean))].sort();
    t.same(Object.keys(s.by_zone), zones, `${q}: zones`);
    t.equal(s.timeline.reduce((a: number, b: { count: number }) => a + b.count, 0), e.total, `${q}: timeline sums to total`);
  }

  const bucketOf = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
  for (const interval of ['minute', 'hour', 'day'] as const) {
    const s = await stats(`interval=${interval}`);
    const want = new Map<number, Row[]>();
    for (const d of data) {
      const b = Math.floor(d.ts / bucketOf[interval]) * bucketOf[interval];
      want.set(b, [...(want.get(b) ?? []), d]);
    }
    t.equal(s.timeline.length, want.size, `${interval}: bucket count`);
    for (const p of s.timeline) {
      const rows = want.get(Date.parse(p.timestamp));
      t.ok(rows, `${interval}: bucket ${p.timestamp} expected`);
      t.equal(p.count, rows?.length);
      t.equal(p.avg_confidence, expect(rows ?? []).avg);
    }
  }
  const w = await stats('interval=week');
  t.equal(w.timeline[0].timestamp, '2024-03-04T00:00:00Z', 'weeks start on Monday (2024-03-04 was one)');

  const s = await stats(`start_date=${iso(T0)}&end_date=${iso(T0 + 3_600_000 - 1)}`);
  t.equal(s.event_rate.per_hour, Math.round(((s.total_events / 3600) * 3600) * 100) / 100, 'rate over the window');
  t.equal(s.event_rate.per_minute, Math.round((s.total_events / 60) * 1e4) / 1e4);

  const bad = await c.req('/events/stats?interval=month', { token: c.adminToken });
  t.equal(bad.status, 400);
  t.equal((await bad.json()).errors[0].field, 'interval');
});
