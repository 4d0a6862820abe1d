/** Stats: totals, a timeline chart (SVG, drawn here) and per-camera / per-zone breakdowns. */
import { api } from '../api.js';
import { clear, fmtConf, fromLocalInput, h, s, toLocalInput } from '../dom.js';
import { cameraNames, zoneNames } from '../lookups.js';

interface Stats {
  total_events: number;
  avg_confidence: number | null;
  min_confidence: number | null;
  max_confidence: number | null;
  unique_plates: number;
  event_rate: { per_second: number; per_minute: number; per_hour: number };
  by_camera: Record<string, { count: number; avg_confidence: number | null }>;
  by_zone: Record<string, { count: number; avg_confidence: number | null }>;
  timeline: Array<{ timestamp: string; count: number; avg_confidence: number | null }>;
}

type Interval = 'minute' | 'hour' | 'day' | 'week';
const STEP: Record<Interval, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 };
const WEEK_OFFSET = 3 * 86_400_000;

function bucketStart(ts: number, iv: Interval): number {
  if (iv === 'week') return Math.floor((ts + WEEK_OFFSET) / STEP.week) * STEP.week - WEEK_OFFSET;
  return Math.floor(ts / STEP[iv]) * STEP[iv];
}

function label(t: number, iv: Interval): string {
  const d = new Date(t);
  if (iv === 'minute' || iv === 'hour') return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

/** Bar chart of counts with the mean confidence as a line (right axis). */
function timelineChart(st: Stats, iv: Interval, start?: number, end?: number): SVGSVGElement | HTMLElement {
  const have = new Map(st.timeline.map((p) => [Date.parse(p.timestamp), p]));
  const keys = [...have.keys()];
  const first = start !== undefined ? bucketStart(start, iv) : Math.min(...keys);
  const last = end !== undefined ? bucketStart(end, iv) : Math.max(...keys);
  if (!keys.length && (start === undefined || end === undefined)) return h('p', { class: 'empty' }, 'No events in this range.');
  const points: Array<{ t: number; count: number; avg: number | null }> = [];
  if ((last - first) / STEP[iv] <= 400) {
    for (let t = first; t <= last; t += STEP[iv]) points.push({ t, count: have.get(t)?.count ?? 0, avg: have.get(t)?.avg_confidence ?? null });
  } else {
    for (const p of st.timeline) points.push({ t: Date.parse(p.timestamp), count: p.count, avg: p.avg_confidence });
  }
  const W = 900;
  const H = 280;
  const L = 48;
  const R = 44;
  const T = 16;
  const B = 36;
  const max = Math.max(1, ...points.map((p) => p.count));
  const niceMax = (() => {
    if (max <= 40) return Math.ceil(max / 4) * 4; // whole numbers on every grid line
    const p = 10 ** Math.floor(Math.log10(max));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
    return max;
  })();
  const pw = (W - L - R) / Math.max(1, points.length);
  const y = (v: number) => T + (H - T - B) * (1 - v / niceMax);
  const yc = (c: number) => T + (H - T - B) * (1 - c);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) =>
    s('g', null, s('line', { class: 'grid', x1: L, x2: W - R, y1: y(niceMax * f), y2: y(niceMax * f) }), s('text', { class: 'axis', x: L - 6, y: y(niceMax * f) + 4, 'text-anchor': 'end' }, String(Math.round(niceMax * f * 100) / 100)), s('text', { class: 'axis axis-conf', x: W - R + 6, y: yc(f) + 4 }, `${f * 100}%`)),
  );
  const bars = points.map((p, i) =>
    s(
      'rect',
      { class: 'tl-bar', x: L + i * pw + pw * 0.12, y: y(p.count), width: Math.max(1, pw * 0.76), height: Math.max(0, H - B - y(p.count)), 'data-count': p.count },
      s('title', null, `${new Date(p.t).toLocaleString()}: ${p.count} events, mean confidence ${fmtConf(p.avg)}`),
    ),
  );
  const every = Math.max(1, Math.ceil(points.length / 8));
  const xl = points.map((p, i) => (i % every === 0 ? s('text', { class: 'axis', x: L + i * pw + pw / 2, y: H - B + 18, 'text-anchor': 'middle' }, label(p.t, iv)) : null));
  const line = points
    .map((p, i) => (p.avg === null ? null : `${L + i * pw + pw / 2},${yc(p.avg)}`))
    .filter(Boolean)
    .join(' ');
  return s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': `Events per ${iv}`, 'data-testid': 'timeline' },
    grid,
    bars,
    line ? s('polyline', { class: 'conf-line', points: line }) : null,
    xl,
    s('line', { class: 'axis-line', x1: L, x2: W - R, y1: H - B, y2: H - B }),
  );
}

function breakdown(title: string, data: Stats['by_camera'], names: Map<string, string>): HTMLElement {
  const rows = Object.entries(data).sort((a, b) => b[1].count - a[1].count);
  const max = Math.max(1, ...rows.map(([, v]) => v.count));
  return h(
    'section',
    { class: 'card' },
    h('h2', null, title),
    rows.length
      ? h(
          'ul',
          { class: 'hbars' },
          rows.map(([k, v]) =>
            h(
              'li',
              null,
              h('span', { class: 'hbar-label', title: k }, names.get(k) ?? k),
              h('span', { class: 'bar' }, h('span', { style: `width:${(v.count / max) * 100}%` })),
              h('span', { class: 'hbar-val' }, String(v.count)),
              h('span', { class: 'muted hbar-conf' }, fmtConf(v.avg_confidence)),
            ),
          ),
        )
      : h('p', { class: 'empty' }, 'Nothing in this range.'),
  );
}

export async function renderStats(root: HTMLElement, _p: string[], query: URLSearchParams): Promise<void> {
  const q = Object.fromEntries(query.entries()) as Record<string, string>;
  const iv = (['minute', 'hour', 'day', 'week'].includes(q.interval ?? '') ? q.interval : 'hour') as Interval;
  const now = Date.now();
  const startIso = q.start_date ?? new Date(now - 24 * 3_600_000).toISOString();
  const endIso = q.end_date ?? new Date(now).toISOString();
  const [cams, zones] = await Promise.all([cameraNames(), zoneNames()]);

  const ivSel = h('select', { id: 's-interval' }, (['minute', 'hour', 'day', 'week'] as const).map((v) => h('option', { value: v, selected: v === iv }, v)));
  const start = h('input', { id: 's-start', type: 'datetime-local', value: toLocalInput(startIso) });
  const end = h('input', { id: 's-end', type: 'datetime-local', value: toLocalInput(endIso) });
  const cam = h('select', { id: 's-camera' }, h('option', { value: '' }, 'All'), [...cams].map(([id, n]) => h('option', { value: id, selected: q.camera_id === id }, n)));
  const zone = h('select', { id: 's-zone' }, h('option', { value: '' }, 'All'), [...zones].map(([id, n]) => h('option', { value: id, selected: q.zone_id === id }, n)));
  const preset = (hours: number, interval: Interval) =>
    h('button', { class: 'btn btn-small', type: 'button', onclick: () => apply({ start_date: new Date(Date.now() - hours * 3_600_000).toISOString(), end_date: new Date().toISOString(), interval }) }, hours < 48 ? `${hours} h` : `${hours / 24} d`);
  const apply = (patch: Record<string, string | undefined> = {}) => {
    const p = new URLSearchParams();
    const v = { interval: ivSel.value, start_date: fromLocalInput(start.value), end_date: fromLocalInput(end.value), camera_id: cam.value || undefined, zone_id: zone.value || undefined, ...patch };
    for (const [k, x] of Object.entries(v)) if (x) p.set(k, x);
    location.hash = `#/stats?${p}`;
  };
  const form = h(
    'form',
    { class: 'filters card', onsubmit: (e: Event) => { e.preventDefault(); apply(); } },
    h('div', { class: 'field' }, h('label', { for: 's-interval' }, 'Interval'), ivSel),
    h('div', { class: 'field' }, h('label', { for: 's-start' }, 'From'), start),
    h('div', { class: 'field' }, h('label', { for: 's-end' }, 'To'), end),
    h('div', { class: 'field' }, h('label', { for: 's-camera' }, 'Camera'), cam),
    h('div', { class: 'field' }, h('label', { for: 's-zone' }, 'Zone'), zone),
    h('div', { class: 'field field-actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, 'Show'), preset(1, 'minute'), preset(24, 'hour'), preset(24 * 7, 'day'), preset(24 * 30, 'day')),
  );
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  clear(root, h('section', { class: 'page-head' }, h('h1', null, 'Stats')), form, body);

  let st: Stats;
  try {
    st = await api<Stats>('GET', '/events/stats', { query: { interval: iv, start_date: startIso, end_date: endIso, camera_id: q.camera_id, zone_id: q.zone_id } });
  } catch (e) {
    clear(body, h('p', { class: 'form-error' }, (e as Error).message));
    return;
  }
  const tile = (label: string, value: string, testid?: string) => h('div', { class: 'tile' }, h('div', { class: 'tile-value', 'data-testid': testid }, value), h('div', { class: 'tile-label' }, label));
  clear(
    body,
    h(
      'div',
      { class: 'tiles' },
      tile('Events', String(st.total_events), 'stat-total'),
      tile('Distinct plates (approx.)', String(st.unique_plates)),
      tile('Mean confidence', fmtConf(st.avg_confidence)),
      tile('Per hour', String(st.event_rate.per_hour)),
    ),
    h('section', { class: 'card' }, h('h2', null, `Events per ${iv}`), timelineChart(st, iv, Date.parse(startIso), Date.parse(endIso)), h('p', { class: 'legend' }, h('span', { class: 'sw sw-bar' }), 'events', h('span', { class: 'sw sw-line' }), 'mean confidence')),
    h('div', { class: 'two-col' }, breakdown('By camera', st.by_camera, cams), breakdown('By zone', st.by_zone, zones)),
  );
}
