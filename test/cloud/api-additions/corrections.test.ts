import t from 'tap';
import { startTestCloud, event } from '../helpers.js';

t.test('an operator corrects a misread plate; the original read and the audit trail stay in the event', async (t) => {
  const c = await startTestCloud(t);
  const raw = [
    { text: 'A8C123', confidence: 0.7, model: 'fast-plate-ocr' },
    { text: 'ABC123', confidence: 0.6, model: 'paddle-ocr' },
  ];
  t.equal((await c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event('evt-fix', { plate_text: 'A8C123', raw_candidates: raw }) })).status, 202);
  await c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event('evt-other', { plate_text: 'XYZ999' }) });
  const viewer = await c.addUser('vera', 'viewer-pass', 'viewer');
  const op = await c.addUser('otto', 'operator-pass', 'operator');

  const denied = await c.req('/events/evt-fix', { method: 'PATCH', token: viewer, json: { plate_text: 'ABC123' } });
  t.equal(denied.status, 403);
  t.match(await denied.json(), { error_code: 'FORBIDDEN', request_id: /^req-/ });
  t.equal((await c.req('/events/evt-fix', { method: 'PATCH', key: c.apiKey, json: { plate_text: 'ABC123' } })).status, 401, 'edges cannot correct');

  const r = await c.req('/events/evt-fix', { method: 'PATCH', token: op, json: { plate_text: 'abc123', reason: '8 is a B' } });
  t.equal(r.status, 200);
  const b = await r.json();
  t.equal(b.plate_text, 'ABC123', 'stored upper-case');
  t.same(b.raw_candidates, raw, 'the engines reads are untouched');
  t.match(b.correction, { original_plate_text: 'A8C123', corrected_by: 'otto', history: [{ from: 'A8C123', to: 'ABC123', by: 'otto', reason: '8 is a B' }] });
  t.ok(Math.abs(Date.parse(b.correction.corrected_at) - Date.now()) < 60_000, 'corrected_at is now');

  const got = await (await c.req('/events/evt-fix', { token: viewer })).json();
  t.equal(got.plate_text, 'ABC123', 'GET shows the corrected text');
  const audit = await (await c.req('/events/evt-fix/correction', { token: viewer })).json();
  t.same(audit, { event_id: 'evt-fix', plate_text: 'ABC123', correction: b.correction });
  t.same((await (await c.req('/events/evt-other/correction', { token: viewer })).json()).correction, null);
  t.same((await (await c.req('/events/evt-fix', { token: viewer })).json()).correction, b.correction, 'the event itself carries its audit trail');
  t.equal((await (await c.req('/events/evt-other', { token: viewer })).json()).correction, null);

  // Search follows the correction (trigram index and short LIKE path).
  const ids = async (q: string) => (await (await c.req(`/events?plate_text=${q}`, { token: viewer })).json()).items.map((e: { id: string }) => e.id);
  t.same(await ids('ABC12'), ['evt-fix']);
  t.same(await ids('A8C'), [], 'the old text no longer matches');
  t.same(await ids('BC'), ['evt-fix']);

  // A second correction keeps the first original.
  const again = await (await c.req('/events/evt-fix', { method: 'PATCH', token: c.adminToken, json: { plate_text: 'ABC128' } })).json();
  t.equal(again.correction.original_plate_text, 'A8C123');
  t.equal(again.correction.corrected_by, 'admin');
  t.same(again.correction.history.map((h: { from: string; to: string; reason: string | null }) => [h.from, h.to, h.reason]), [
    ['A8C123', 'ABC123', '8 is a B'],
    ['ABC123', 'ABC128', null],
  ]);
  t.equal((await (await c.req('/events/stats', { token: viewer })).json()).total_events, 2, 'a correction is not a new event');

  const same = await c.req('/events/evt-fix', { method: 'PATCH', token: op, json: { plate_text: 'abc128' } });
  t.equal(same.status, 400, 'no-op correction refused');
  const inval = await c.req('/events/evt-fix', { method: 'PATCH', token: op, json: { plate_text: 'AB<script>', camera_id: 'x' } });
  t.equal(inval.status, 400);
  t.same((await inval.json()).errors.map((e: { field: string }) => e.field).sort(), ['camera_id', 'plate_text']);
  t.equal((await c.req('/events/nope', { method: 'PATCH', token: op, json: { plate_text: 'ABC1' } })).status, 404);
  t.equal((await c.req('/events/evt-fix', { method: 'PATCH', token: op, body: '{', headers: { 'content-type': 'application/json' } })).status, 400);
});
