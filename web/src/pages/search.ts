/**
 * Search: every filter of GET /events (the gate's decision too: `action`, and `alert=true` for
 * watch-list alerts), sorting, paging, CSV export of the same filters. State lives in the URL.
 */
import { ApiError, api, download, imageUrl } from '../api.js';
import { clear, confBadge, fmtTime, fromLocalInput, h, toLocalInput, toast } from '../dom.js';
import type { ApiEvent, Page } from '../types.js';
import { cameraNames, zoneNames } from '../lookups.js';
import { ACTION_TEXT, decisionBadge } from '../decision.js';

const FILTERS = ['plate_text', 'camera_id', 'zone_id', 'start_date', 'end_date', 'min_confidence', 'action', 'alert'] as const;
const ACTIONS = ['open', 'deny', 'alert', 'none'] as const;

export async function renderSearch(root: HTMLElement, _p: string[], query: URLSearchParams): Promise<void> {
  const q = Object.fromEntries(query.entries()) as Record<string, string>;
  const sortBy = q.sort_by ?? 'timestamp';
  const sortOrder = q.sort_order ?? 'desc';
  const limit = Number(q.limit ?? 25);
  const skip = Number(q.skip ?? 0);
  const [cams, zones] = await Promise.all([cameraNames(), zoneNames()]);

  const go = (patch: Record<string, string | undefined>) => {
    const next = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...q, ...patch })) if (v !== undefined && v !== '') next.set(k, v);
    location.hash = `#/search?${next}`;
  };

  const plate = h('input', { id: 'f-plate', name: 'plate_text', value: q.plate_text ?? '', placeholder: 'e.g. AB12', autocomplete: 'off', maxlength: 32 });
  const camera = h('select', { id: 'f-camera', name: 'camera_id' }, h('option', { value: '' }, 'Any'), [...cams].map(([id, n]) => h('option', { value: id, selected: q.camera_id === id }, n)));
  const zone = h('select', { id: 'f-zone', name: 'zone_id' }, h('option', { value: '' }, 'Any'), [...zones].map(([id, n]) => h('option', { value: id, selected: q.zone_id === id }, n)));
  const start = h('input', { id: 'f-start', type: 'datetime-local', value: toLocalInput(q.start_date) });
  const end = h('input', { id: 'f-end', type: 'datetime-local', value: toLocalInput(q.end_date) });
  const minc = h('input', { id: 'f-minconf', type: 'number', min: 0, max: 100, step: 1, value: q.min_confidence ? String(Math.round(Number(q.min_confidence) * 100)) : '', placeholder: '0-100' });
  const action = h('select', { id: 'f-action', name: 'action' }, h('option', { value: '' }, 'Any'), ACTIONS.map((a) => h('option', { value: a, selected: q.action === a }, a === 'none' ? 'None (no list acted)' : ACTION_TEXT[a])));
  const alertOnly = h('input', { id: 'f-alert', type: 'checkbox', checked: q.alert === 'true' });
  const filters = () => ({
    plate_text: plate.value.trim() || undefined,
    camera_id: camera.value || undefined,
    zone_id: zone.value || undefined,
    start_date: fromLocalInput(start.value),
    end_date: fromLocalInput(end.value),
    min_confidence: minc.value ? String(Number(minc.value) / 100) : undefined,
    action: action.value || undefined,
    alert: alertOnly.checked ? 'true' : undefined,
  });

  const form = h(
    'form',
    {
      class: 'filters card',
      onsubmit: (e: Event) => {
        e.preventDefault();
        go({ ...filters(), skip: undefined });
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'f-plate' }, 'Plate contains'), plate),
    h('div', { class: 'field' }, h('label', { for: 'f-camera' }, 'Camera'), camera),
    h('div', { class: 'field' }, h('label', { for: 'f-zone' }, 'Zone'), zone),
    h('div', { class: 'field' }, h('label', { for: 'f-start' }, 'From'), start),
    h('div', { class: 'field' }, h('label', { for: 'f-end' }, 'To'), end),
    h('div', { class: 'field field-narrow' }, h('label', { for: 'f-minconf' }, 'Min. confidence %'), minc),
    h('div', { class: 'field' }, h('label', { for: 'f-action' }, 'Decision'), action),
    h('div', { class: 'field field-check' }, h('label', { for: 'f-alert' }, 'Watch-list alerts only'), alertOnly),
    h(
      'div',
      { class: 'field field-actions' },
      h('button', { class: 'btn btn-primary', type: 'submit' }, 'Search'),
      h('button', { class: 'btn', type: 'button', onclick: () => (location.hash = '#/search') }, 'Reset'),
    ),
  );

  const results = h('div', { class: 'card results' }, h('p', { class: 'muted' }, 'Loading…'));
  const exportBtn = h('button', { class: 'btn', type: 'button' }, 'Export CSV');
  exportBtn.onclick = async () => {
    exportBtn.disabled = true;
    try {
      const f: Record<string, string | undefined> = {};
      for (const k of FILTERS) f[k] = q[k];
      await download('/events/export', { format: 'csv', ...f, sort_by: sortBy, sort_order: sortOrder }, 'events.csv');
    } catch (e) {
      toast((e as Error).message, 'error');
    } finally {
      exportBtn.disabled = false;
    }
  };
  clear(root, h('section', { class: 'page-head' }, h('h1', null, 'Search'), h('div', { class: 'head-tools' }, exportBtn)), form, results);

  let page: Page<ApiEvent>;
  try {
    const query: Record<string, string | number | undefined> = { skip, limit, sort_by: sortBy, sort_order: sortOrder };
    for (const k of FILTERS) query[k] = q[k];
    page = await api<Page<ApiEvent>>('GET', '/events', { query });
  } catch (e) {
    const msg = e instanceof ApiError && e.fields.length ? e.fields.map((f) => f.message).join('; ') : (e as Error).message;
    clear(results, h('p', { class: 'form-error' }, msg));
    return;
  }

  const sortHead = (key: string, label: string) => {
    const active = sortBy === key;
    const nextOrder = active && sortOrder === 'desc' ? 'asc' : 'desc';
    return h(
      'th',
      { 'aria-sort': active ? (sortOrder === 'asc' ? 'ascending' : 'descending') : 'none' },
      h('button', { class: 'sort', type: 'button', onclick: () => go({ sort_by: key, sort_order: nextOrder, skip: undefined }) }, label, active ? (sortOrder === 'asc' ? ' ▲' : ' ▼') : ''),
    );
  };

  const rows = page.items.map((ev) => {
    const thumb = h('img', { class: 'thumb', alt: '' });
    if (ev.crop_url) imageUrl(ev.crop_url).then((u) => (thumb.src = u)).catch(() => thumb.remove());
    const link = `#/events/${encodeURIComponent(ev.id)}`;
    return h(
      'tr',
      { class: 'row-link', 'data-event-id': ev.id, onclick: () => (location.hash = link) },
      h('td', { class: 'col-thumb' }, ev.crop_url ? thumb : null),
      h('td', null, h('a', { href: link, class: 'plate plate-sm' }, ev.plate_text)),
      h('td', null, confBadge(ev.confidence)),
      h('td', null, cams.get(ev.camera_id ?? '') ?? ev.camera_id ?? '—'),
      h('td', { class: 'hide-narrow' }, zones.get(ev.zone_id ?? '') ?? ev.zone_id ?? '—'),
      h('td', { class: 'col-decision' }, decisionBadge(ev.decision)),
      h('td', null, h('time', { datetime: ev.timestamp }, fmtTime(ev.timestamp))),
    );
  });

  const from = page.total === 0 ? 0 : skip + 1;
  const to = Math.min(skip + limit, page.total);
  const sizeSel = h('select', { 'aria-label': 'Rows per page', onchange: (e: Event) => go({ limit: (e.target as HTMLSelectElement).value, skip: undefined }) }, [10, 25, 50, 100].map((n) => h('option', { value: n, selected: n === limit }, `${n} / page`)));
  clear(
    results,
    h('p', { class: 'result-count', 'data-testid': 'result-count' }, `${page.total} event${page.total === 1 ? '' : 's'}`),
    page.items.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table', 'data-testid': 'results' },
            h('thead', null, h('tr', null, h('th', { class: 'col-thumb' }, ''), sortHead('plate_text', 'Plate'), sortHead('confidence', 'Confidence'), h('th', null, 'Camera'), h('th', { class: 'hide-narrow' }, 'Zone'), h('th', null, 'Decision'), sortHead('timestamp', 'Time'))),
            h('tbody', null, rows),
          ),
        )
      : h('p', { class: 'empty' }, 'No events match these filters.'),
    h(
      'div',
      { class: 'pager' },
      h('button', { class: 'btn', type: 'button', disabled: skip === 0, onclick: () => go({ skip: String(Math.max(0, skip - limit)) }) }, '‹ Previous'),
      h('span', { class: 'muted' }, `${from}–${to} of ${page.total}`),
      h('button', { class: 'btn', type: 'button', disabled: skip + limit >= page.total, onclick: () => go({ skip: String(skip + limit) }) }, 'Next ›'),
      sizeSel,
    ),
  );
}
