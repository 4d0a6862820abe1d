/**
 * Issue 10, the decision of each event as a filter: `GET /events?action=open|deny|alert|none`
 * and `alert=true|false`, filled at ingest from `decision`, paged and counted; the CSV export
 * takes the same filters; migration 6 fills the columns of events stored before it.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../../cloud/db/migrations.js';
import { ONLY_SQLITE, startTestCloud, event } from './helpers.js';

const decision = (action: string, alert = false) => ({
  action,
  list: action === 'none' ? null : { id: 'list-001', name: 'Staff', type: action === 'deny' ? 'deny' : action === 'alert' ? 'watch' : 'allow' },
  entry_label: null,
  matched_plate: action === 'none' ? null : 'ABC123',
  distance: action === 'none' ? null : 0,
  direction: 'in',
  alert,
  reason: `test ${action}`,
  latency_ms: 420,
});

/** Event i: its action cycles open, deny, alert, none, and every 5th has no decision; every 7th open alerts too (a watch list matched an allowed car). */
const actionOf = (i: number) => (i % 5 === 4 ? null : (['open', 'deny', 'alert', 'none'] as const)[i % 4]!);
const alertOf = (i: number) => actionOf(i) === 'alert' || (actionOf(i) === 'open' && i % 7 === 0);

t.test('action and alert filters over real ingests: counts, pages in order, the export', async (t) => {
  const c = await startTestCloud(t);
  const n = 120;
  const base = Date.parse('2024-06-01T08:00:00Z');
  for (let i = 0; i < n; i++) {
    const a = actionOf(i);
    const r = await c.req('/events/ingest', {
      method: 'POST',
      key: c.apiKey,
      json: event(`evt-${i}`, { timestamp: new Date(base + i * 1000).toISOString(), ...(a ? { decision: decision(a, alertOf(i) && a !== 'alert') } : {}) }),
    });
    t.equal(r.status, 202, `ingest ${i}`);
  }
  const ids = (want: (i: number) => boolean) =>
    Array.from({ length: n }, (_, i) => i)
      .filter(want)
      .reverse()
      .map((i) => `evt-${i}`);

  for (const action of ['open', 'deny', 'alert', 'none'] as const) {
    const want = ids((i) => actionOf(i) === action);
    const got: string[] = [];
    let total = -1;
    for (let skip = 0; ; skip += 7) {
      const page = await (await c.req(`/events?action=${action}&limit=7&skip=${skip}`, { token: c.adminToken })).json();
      total = page.total;
      got.push(...page.items.map((e: any) => e.event_id));
      for (const e of page.items) t.equal(e.decision.action, action);
      if (page.items.length < 7) break;
    }
    t.equal(total, want.length, `action=${action}: total`);
    t.same(got, want, `action=${action}: every matching event once, newest first, across pages`);
  }
  const alerts = await (await c.req('/events?alert=true&limit=1000', { token: c.adminToken })).json();
  t.same(alerts.items.map((e: any) => e.event_id), ids(alertOf), 'alert=true: watch matches, also on an opened gate');
  t.ok(alerts.items.some((e: any) => e.decision.action === 'open'), 'an open that alerted is among them');
  const quiet = await (await c.req('/events?alert=false&limit=1000', { token: c.adminToken })).json();
  t.equal(quiet.total, n - alerts.total, 'alert=false: all the others, events without a decision included');
  const both = await (await c.req('/events?action=open&alert=true&limit=1000', { token: c.adminToken })).json();
  t.same(both.items.map((e: any) => e.event_id), ids((i) => actionOf(i) === 'open' && alertOf(i)), 'with each other');
  const asc = await (await c.req('/events?action=deny&sort_order=asc&limit=3', { token: c.adminToken })).json();
  t.same(asc.items.map((e: any) => e.event_id), ids((i) => actionOf(i) === 'deny').reverse().slice(0, 3));

  const csv = await (await c.req('/events/export?action=deny', { token: c.adminToken })).text();
  const rows = csv.trim().split('\r\n').slice(1).map((l) => l.split(',')[0]);
  t.same(rows, ids((i) => actionOf(i) === 'deny'), 'the export takes the filter');
  const alertCsv = await (await c.req('/events/export?alert=true', { token: c.adminToken })).text();
  t.equal(alertCsv.trim().split('\r\n').length - 1, alerts.total);

  for (const q of ['action=opened', 'action=', 'alert=maybe']) {
    const r = await c.req(`/events?${q}`, { token: c.adminToken });
    t.equal(r.status, 400, `${q}: 400`);
    t.match((await r.json()).errors[0].field, q.split('=')[0]);
  }
  const doc = await (await c.req('/openapi.json')).json();
  for (const path of ['/events', '/events/export']) {
    const q = doc.paths[path].get.parameters.map((p: any) => p.name);
    t.ok(q.includes('action') && q.includes('alert'), `GET ${path} documents action and alert`);
  }
  const sqlite = c.ctx.database.sqlite;
  if (sqlite) {
    const plan = sqlite.db.prepare("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM events WHERE decision_action = ?").all('deny') as Array<{ detail: string }>;
    t.match(plan.map((p) => p.detail).join(' '), /events_action_ts/, 'the action filter is served by its index');
    const alertPlan = sqlite.db.prepare('EXPLAIN QUERY PLAN SELECT COUNT(*) FROM events WHERE decision_alert = 1').all() as Array<{ detail: string }>;
    t.match(alertPlan.map((p) => p.detail).join(' '), /events_alert_ts/, 'and the alert filter by its');
  }
});

t.test('migration 6 fills the decision columns of events stored before it', { skip: ONLY_SQLITE }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-mig6-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = new Database(join(dir, 'anpr.db'));
  migrate(db, 5);
  const insert = db.prepare(
    "INSERT INTO events (event_id, ts, camera_id, zone_id, plate_text, confidence, processing_ms, body, created_at) VALUES (?, ?, 'cam-001', NULL, 'ABC123', 0.9, NULL, ?, ?)",
  );
  const now = Date.now();
  insert.run('old-open', now, JSON.stringify({ raw_candidates: [], decision: decision('open') }), now);
  insert.run('old-watch', now + 1, JSON.stringify({ raw_candidates: [], decision: decision('open', true) }), now);
  insert.run('old-alert', now + 2, JSON.stringify({ raw_candidates: [], decision: decision('alert') }), now);
  insert.run('old-none', now + 3, JSON.stringify({ raw_candidates: [], decision: null }), now);
  insert.run('old-plain', now + 4, JSON.stringify({ raw_candidates: [] }), now);
  insert.run('old-broken', now + 5, '{not json', now);
  migrate(db);
  t.same(db.prepare('SELECT event_id, decision_action, decision_alert FROM events ORDER BY ts').all(), [
    { event_id: 'old-open', decision_action: 'open', decision_alert: 0 },
    { event_id: 'old-watch', decision_action: 'open', decision_alert: 1 },
    { event_id: 'old-alert', decision_action: 'alert', decision_alert: 1 },
    { event_id: 'old-none', decision_action: null, decision_alert: null },
    { event_id: 'old-plain', decision_action: null, decision_alert: null },
    { event_id: 'old-broken', decision_action: null, decision_alert: null },
  ]);
  db.close();
  const c = await startTestCloud(t, {}, dir);
  const r = await (await c.req('/events?alert=true', { token: c.adminToken })).json();
  t.same(r.items.map((e: any) => e.event_id), ['old-alert', 'old-watch'], 'the service filters them');
});
