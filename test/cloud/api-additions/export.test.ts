import t from 'tap';
import { startTestCloud, event } from '../helpers.js';
import { parseCsv } from './csv.js';
import { CSV_COLUMNS, csvCell } from '../../../cloud/routes/export.js';

t.test('CSV export: same filters and order as GET /events, every row, quoted correctly', async (t) => {
  const c = await startTestCloud(t);
  const base = Date.parse('2024-03-01T00:00:00Z');
  const cams = ['cam-001', 'cam-002', 'cam-003'];
  for (let i = 0; i < 230; i++) {
    const r = await c.req('/events/ingest', {
      method: 'POST',
      key: c.apiKey,
      json: event(`evt-${i}`, {
        timestamp: new Date(base + (i % 97) * 60_000 + i).toISOString(),
        camera_id: cams[i % 3],
        zone_id: i % 2 ? 'zone-a' : 'zone-b',
        plate_text: `P${String(i % 50).padStart(3, '0')}X`,
        confidence: i % 10 === 0 ? null : (i % 17) / 17,
        raw_candidates: [{ text: `P${i}`, confidence: 0.5, model: 'm,"quoted"' }],
        vehicle_info: i === 5 ? { type: 'car', color: '=cmd|x' } : null,
      }),
    });
    t.equal(r.status, 202);
  }
  await c.req('/events/evt-7', { method: 'PATCH', token: c.adminToken, json: { plate_text: 'FIXED7' } });

  const queries = [
    '',
    'camera_id=cam-002',
    'zone_id=zone-a&min_confidence=0.5',
    'plate_text=P01',
    `start_date=${new Date(base + 10 * 60_000).toISOString()}&end_date=${new Date(base + 40 * 60_000).toISOString()}`,
    'sort_by=confidence&sort_order=asc',
    'sort_by=confidence&sort_order=desc&camera_id=cam-001',
    'sort_by=plate_text&sort_order=asc',
    'sort_by=timestamp&sort_order=asc&plate_text=P0',
  ];
  for (const q of queries) {
    const want: string[] = [];
    for (let skip = 0; ; skip += 100) {
      const page = await (await c.req(`/events?${q}&skip=${skip}&limit=100`, { token: c.adminToken })).json();
      want.push(...page.items.map((e: { id: string }) => e.id));
      if (want.length >= page.total) break;
    }
    const r = await c.req(`/events/export?format=csv&${q}`, { token: c.adminToken });
    t.equal(r.status, 200);
    t.equal(r.headers.get('content-type'), 'text/csv; charset=utf-8');
    t.match(r.headers.get('content-disposition'), /^attachment; filename="anpr-events-.*\.csv"$/);
    const rows = parseCsv(await r.text());
    t.same(rows[0], [...CSV_COLUMNS]);
    t.same(rows.slice(1).map((x) => x[0]), want, `rows and order for "${q || 'no filter'}" (${want.length} rows)`);
  }

  const all = parseCsv(await (await c.req('/events/export', { token: c.adminToken })).text());
  const col = (name: string) => CSV_COLUMNS.indexOf(name as (typeof CSV_COLUMNS)[number]);
  const byId = new Map(all.slice(1).map((r) => [r[0], r]));
  t.equal(byId.get('evt-1')![col('candidates')], 'm,"quoted":P1:0.5', 'commas and quotes survive');
  t.equal(byId.get('evt-5')![col('vehicle_color')], "'=cmd|x", 'a formula-looking cell is defused');
  t.equal(byId.get('evt-0')![col('confidence')], '', 'null confidence is empty');
  t.same([byId.get('evt-7')![col('plate_text')], byId.get('evt-7')![col('original_plate_text')], byId.get('evt-7')![col('corrected_by')]], ['FIXED7', 'P007X', 'admin']);
  t.equal(byId.get('evt-3')![col('timestamp')], new Date(base + 3 * 60_000 + 3).toISOString());

  const limited = parseCsv(await (await c.req('/events/export?max_rows=7&sort_order=asc', { token: c.adminToken })).text());
  t.equal(limited.length, 8, 'max_rows');

  const bad = await c.req('/events/export?format=xlsx&limit=5', { token: c.adminToken });
  t.equal(bad.status, 400);
  t.same((await bad.json()).errors.map((e: { field: string }) => e.field).sort(), ['format', 'limit']);
  t.equal((await c.req('/events/export')).status, 401);
  t.equal((await c.req('/events/export', { key: c.apiKey })).status, 401, 'edges cannot export');
  const viewer = await c.addUser('v', 'viewer-pass', 'viewer');
  t.equal((await c.req('/events/export?camera_id=none', { token: viewer })).status, 200, 'viewers can');
});

t.test('csvCell quotes what needs quoting and nothing else', async (t) => {
  t.equal(csvCell('plain'), 'plain');
  t.equal(csvCell('a,b'), '"a,b"');
  t.equal(csvCell('say "hi"'), '"say ""hi"""');
  t.equal(csvCell('two\nlines'), '"two\nlines"');
  t.equal(csvCell('+1'), "'+1");
  t.equal(csvCell(-0.5), '-0.5', 'numbers are not defused');
  t.equal(csvCell(null), '');
});

t.test('keyset pages in every sort order join up to the list order, ties and null confidences included', async (t) => {
  const c = await startTestCloud(t);
  for (let i = 0; i < 60; i++) {
    await c.req('/events/ingest', {
      method: 'POST',
      key: c.apiKey,
      // Few distinct values: many ties on every sort key.
      json: event(`k-${i}`, { timestamp: new Date(Date.UTC(2024, 0, 1, 0, i % 4)).toISOString(), plate_text: `K${i % 3}`, confidence: i % 5 === 0 ? null : (i % 3) / 4 }),
    });
  }
  for (const sort of ['timestamp', 'confidence', 'plate_text'] as const) {
    for (const order of ['asc', 'desc'] as const) {
      const want = (await c.ctx.events.list({}, sort, order, 0, 1000)).items.map((r) => r.event_id);
      const got: string[] = [];
      let cursor = null;
      let pages = 0;
      do {
        const p = await c.ctx.events.pageAfter({}, sort, order, cursor, 7);
        got.push(...p.items.map((r) => r.event_id));
        cursor = p.next;
        pages++;
      } while (cursor);
      t.same(got, want, `${sort} ${order} in ${pages} pages`);
    }
  }
});
