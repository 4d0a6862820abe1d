/**
 * Access lists (`#/lists`, `#/lists/ID`, `#/lists/new`): allow, deny and watch lists of plates
 * that the edges decide with.
 *
 * - The index shows every list with its type, edge, cameras, direction, entry count, version
 *   and how many of the edges applying it decide with that version (from the edges'
 *   heartbeats, `GET /edges`).
 * - A list's page: its settings (a form; read-only below admin), its entries paged with a
 *   plate-prefix search, the edges that apply it, current or behind; admins add, update and
 *   remove entries, import a CSV (added to the entries or replacing them all; the API's
 *   line-by-line refusal is shown and nothing is stored) and delete the list. Everyone may
 *   export the entries as CSV.
 * - The UI hides what a role cannot do; the API enforces it either way.
 */
import { ApiError, api, download, raw, session } from '../api.js';
import { clear, fmtTime, fromLocalInput, h, toLocalInput, toast } from '../dom.js';
import { listAll } from '../lookups.js';
import { formatSchedule, parseSchedule } from '../../../shared/access/schedule-text.js';
import type { AccessList, AccessListDetail, Edge, ListEntry, Page } from '../types.js';
import { listEdges } from './edges.js';
import { errorText } from './keys.js';

const ENTRIES_PAGE = 50;
const TYPE_HELP: Record<AccessList['type'], string> = {
  allow: 'opens the gate for its plates',
  deny: 'keeps the gate shut for its plates (deny beats allow)',
  watch: 'never opens anything, always alerts',
};
const enc = encodeURIComponent;
const listPath = (id: string) => `/config/lists/${enc(id)}`;

/** Edges that apply a list: its own edge, or every edge when it names none. */
function applying(l: AccessList, edges: Edge[]): Edge[] {
  return l.edge_id === null ? edges : edges.filter((e) => e.id === l.edge_id);
}
/** Whether an edge reported deciding with the list's current version in its last heartbeat. */
function isCurrent(l: AccessList, e: Edge): boolean {
  return (e.lists ?? []).some((x) => x.id === l.id && x.version === l.version);
}

function typeCell(t: AccessList['type']): HTMLElement {
  return h('span', { class: `type-${t}`, title: TYPE_HELP[t], 'data-testid': 'list-type' }, t);
}

export async function renderLists(root: HTMLElement, [id]: string[]): Promise<void> {
  if (!id) return renderIndex(root);
  return renderList(root, id === 'new' ? null : id);
}

async function renderIndex(root: HTMLElement): Promise<void> {
  const admin = session.can('admin');
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  clear(
    root,
    h(
      'section',
      { class: 'page-head' },
      h('h1', null, 'Access lists'),
      h('div', { class: 'head-tools' }, admin ? h('a', { class: 'btn btn-primary', href: '#/lists/new', 'data-testid': 'new-list' }, 'New list') : h('span', { class: 'muted', 'data-testid': 'read-only' }, 'Read only — admins change the lists')),
    ),
    body,
  );
  let lists: AccessList[];
  let edges: Edge[] | null = null;
  let cams = new Map<string, string>();
  try {
    lists = (await listAll('lists')) as unknown as AccessList[];
  } catch (e) {
    clear(body, h('p', { class: 'card form-error' }, (e as Error).message));
    return;
  }
  await Promise.all([
    listEdges().then((x) => (edges = x)).catch(() => undefined),
    listAll('cameras').then((x) => (cams = new Map(x.map((c) => [c.id, String(c.name ?? c.id)])))).catch(() => undefined),
  ]);
  const edgesCell = (l: AccessList) => {
    if (!edges) return h('span', { class: 'muted' }, '—');
    const on = applying(l, edges);
    const cur = on.filter((e) => isCurrent(l, e)).length;
    return h('span', { 'data-testid': 'edges-current', title: 'Edges deciding with this version / edges applying the list' }, `${cur} / ${on.length} current`, cur < on.length ? h('span', { class: 'tag tag-warn' }, `${on.length - cur} behind`) : null);
  };
  clear(
    body,
    h(
      'section',
      { class: 'card' },
      lists.length
        ? h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'table', 'data-testid': 'lists-table' },
              h('thead', null, h('tr', null, ['List', 'Type', 'Edge', 'Cameras', 'Direction', 'Entries', 'Version', 'Edges'].map((t) => h('th', null, t)))),
              h(
                'tbody',
                null,
                lists.map((l) =>
                  h(
                    'tr',
                    { class: 'row-link', 'data-id': l.id, onclick: (ev: Event) => { if (!(ev.target as Element).closest('a')) location.hash = `#/lists/${enc(l.id)}`; } },
                    h('td', null, h('a', { href: `#/lists/${enc(l.id)}` }, l.name), l.enabled ? null : h('span', { class: 'tag tag-warn' }, 'disabled')),
                    h('td', null, typeCell(l.type)),
                    h('td', null, l.edge_id ?? 'all edges'),
                    h('td', null, l.camera_ids.length ? l.camera_ids.map((c) => cams.get(c) ?? c).join(', ') : 'all cameras'),
                    h('td', null, l.direction === 'any' ? 'both' : l.direction),
                    h('td', { 'data-testid': 'entries-count' }, l.entries_count.toLocaleString()),
                    h('td', null, h('code', { title: l.version }, l.version.slice(0, 8))),
                    h('td', null, edgesCell(l)),
                  ),
                ),
              ),
            ),
          )
        : h('p', { class: 'empty' }, admin ? 'No access lists yet. Make one: allow lists open the gate, deny lists keep it shut, watch lists alert.' : 'No access lists yet.'),
    ),
  );
}

/** A list's page; `id` null: the form for a new list. */
async function renderList(root: HTMLElement, id: string | null): Promise<void> {
  const admin = session.can('admin');
  if (id === null && !admin) {
    clear(root, h('p', { class: 'card form-error', 'data-testid': 'read-only' }, 'Only admins can make access lists.'));
    return;
  }
  clear(root, h('p', { class: 'muted' }, 'Loading…'));
  let list: AccessListDetail | null = null;
  let edges: Array<{ id: string; name: string }> = [];
  let cams: Array<{ id: string; name: string; edge: string | null }> = [];
  try {
    if (id !== null) list = await api<AccessListDetail>('GET', listPath(id));
  } catch (e) {
    clear(root, h('section', { class: 'card' }, h('a', { class: 'back', href: '#/lists' }, '← Lists'), h('h1', null, 'Access list'), h('p', { class: 'form-error' }, (e as Error).message)));
    return;
  }
  await Promise.all([
    listEdges().then((x) => (edges = x.map((e) => ({ id: e.id, name: e.name })))).catch(() => undefined),
    listAll('cameras').then((x) => (cams = x.map((c) => ({ id: c.id, name: String(c.name ?? c.id), edge: (c.edge_id as string | null) ?? null })))).catch(() => undefined),
  ]);

  const head = h(
    'section',
    { class: 'page-head' },
    h('div', null, h('a', { class: 'back', href: '#/lists' }, '← Lists'), h('h1', { 'data-testid': 'list-title' }, list ? ['List ', list.name, ' ', typeCell(list.type)] : 'New access list')),
    list ? h('div', { class: 'head-tools' }, h('span', { class: 'muted' }, `version `, h('code', { 'data-testid': 'list-version' }, list.version.slice(0, 8)), ` · updated ${fmtTime(list.updated_at)}`)) : null,
  );
  const form = settingsForm(list, edges, cams, admin, (saved) => {
    if (list) void renderList(root, saved.id);
    else location.hash = `#/lists/${enc(saved.id)}`;
  });
  if (!list) {
    clear(root, head, form);
    return;
  }
  const entriesBox = h('div', { class: 'list-entries' });
  const edgesBox = edgesCard(list);
  clear(root, head, h('div', { class: 'detail-grid' }, form, edgesBox), entriesBox);
  entriesCard(entriesBox, list, admin, async () => {
    // Entries changed: the version and the count moved; the head and the edges say so.
    try {
      const fresh = await api<AccessListDetail>('GET', listPath(list.id));
      head.querySelector('[data-testid=list-version]')!.textContent = fresh.version.slice(0, 8);
      edgesBox.replaceWith(edgesCard(fresh));
      return fresh;
    } catch {
      return null;
    }
  });
}

function edgesCard(list: AccessListDetail): HTMLElement {
  return h(
    'section',
    { class: 'card', 'data-testid': 'list-edges' },
    h('h2', null, 'Edges applying it'),
    list.edges.length
      ? h(
          'table',
          { class: 'table' },
          h('thead', null, h('tr', null, h('th', null, 'Edge'), h('th', null, 'Deciding with'), h('th', null, ''))),
          h(
            'tbody',
            null,
            list.edges.map((e) =>
              h(
                'tr',
                { 'data-id': e.id },
                h('td', null, h('a', { href: `#/edges/${enc(e.id)}` }, e.id)),
                h('td', null, e.version ? h('code', { title: e.version }, e.version.slice(0, 8)) : h('span', { class: 'muted' }, 'not reported')),
                h('td', { 'data-testid': 'edge-list-state', 'data-current': String(e.current) }, e.current ? h('span', { class: 'pill pill-ok' }, '✔ current') : h('span', { class: 'pill pill-bad', title: 'The edge has not reported deciding with this version yet' }, '▲ behind')),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, list.edge_id ? `Edge ${list.edge_id} is not registered.` : 'No edges registered yet.'),
  );
}

type Input = HTMLInputElement | HTMLSelectElement;

/** The list's settings: create (POST) or replace (PUT); the API's field errors next to the fields. */
function settingsForm(
  list: AccessListDetail | null,
  edges: Array<{ id: string; name: string }>,
  cams: Array<{ id: string; name: string; edge: string | null }>,
  admin: boolean,
  onSaved: (saved: AccessList) => void,
): HTMLElement {
  const inputs = new Map<string, Input>();
  const errs = new Map<string, HTMLElement>();
  const field = (key: string, label: string, input: Input, help?: string) => {
    input.id = `list-${key.replace(/\./g, '-')}`;
    if (!admin) input.disabled = true;
    inputs.set(key, input);
    const err = h('span', { class: 'field-error' });
    errs.set(key, err);
    const check = input instanceof HTMLInputElement && input.type === 'checkbox';
    return h('div', { class: `field${check ? ' field-check' : ''}`, 'data-key': key }, h('label', { for: input.id }, label), input, help ? h('small', { class: 'help' }, help) : null, err);
  };
  const opt = (value: string, text: string, chosen: string) => h('option', { value, selected: value === chosen }, text);
  const edgeIds = list?.edge_id && !edges.some((e) => e.id === list.edge_id) ? [...edges, { id: list.edge_id, name: list.edge_id }] : edges;
  const chosenCams = new Set(list?.camera_ids ?? []);
  const camList = [...cams, ...[...chosenCams].filter((c) => !cams.some((x) => x.id === c)).map((c) => ({ id: c, name: c, edge: null }))];
  const camBoxes = camList.map((c) => h('input', { type: 'checkbox', value: c.id, checked: chosenCams.has(c.id), disabled: !admin, id: `list-cam-${c.id}` }));
  const camLabels = camList.map((c, i) => h('label', { class: 'inline', for: camBoxes[i]!.id }, camBoxes[i]!, c.edge ? `${c.name} (${c.edge})` : c.name));
  // With one edge chosen, only its cameras are offered (and any already ticked, so none is lost unseen).
  const offerCams = () => {
    const edge = (inputs.get('edge_id') as HTMLSelectElement).value;
    camList.forEach((c, i) => (camLabels[i]!.hidden = !!edge && c.edge !== edge && !camBoxes[i]!.checked));
  };
  const camErr = h('span', { class: 'field-error' });
  errs.set('camera_ids', camErr);

  const rows = [
    field('name', 'Name *', h('input', { value: list?.name ?? '', maxlength: 64, autocomplete: 'off', required: true })),
    field('type', 'Type', h('select', null, (['allow', 'deny', 'watch'] as const).map((t) => opt(t, t, list?.type ?? 'allow'))), 'allow opens; deny keeps shut and beats allow; watch never opens, always alerts'),
    field('edge_id', 'Edge', h('select', null, opt('', 'All edges', list?.edge_id ?? ''), edgeIds.map((e) => opt(e.id, e.name !== e.id ? `${e.name} (${e.id})` : e.id, list?.edge_id ?? ''))), 'The edge that applies it; all edges = every edge'),
    field('direction', 'Direction', h('select', null, opt('any', 'Both directions', list?.direction ?? 'any'), opt('in', 'In only', list?.direction ?? 'any'), opt('out', 'Out only', list?.direction ?? 'any'))),
    field('match.mode', 'Matching', h('select', null, opt('exact', 'Exact (after normalisation)', list?.match.mode ?? 'exact'), opt('confusable', 'Look-alikes (O/0, I/1, B/8 …)', list?.match.mode ?? 'exact'))),
    field('match.confusable_cost', 'Look-alike cost', h('input', { type: 'number', min: 0, max: 1, step: 0.05, value: String(list?.match.confusable_cost ?? 0) }), '0 = a look-alike swap is free; 1 = like any other edit'),
    field('match.max_distance', 'Largest distance', h('input', { type: 'number', min: 0, max: 3, step: 0.5, value: String(list?.match.max_distance ?? 0) }), '0 = exact only'),
    field('timezone', 'Time zone', h('input', { value: list?.timezone ?? '', placeholder: "the site's", maxlength: 64, autocomplete: 'off', spellcheck: 'false' }), 'Of the schedules, e.g. Europe/Berlin; empty = the edge\'s'),
    field('enabled', 'Enabled', h('input', { type: 'checkbox', checked: list?.enabled ?? true })),
    h(
      'fieldset',
      { class: 'field field-wide', 'data-key': 'camera_ids' },
      h('legend', null, 'Cameras (none ticked = every camera of those edges)'),
      camList.length ? h('div', { class: 'inline' }, camLabels) : h('p', { class: 'muted' }, 'No cameras configured.'),
      camErr,
    ),
  ];
  inputs.get('edge_id')!.addEventListener('change', offerCams);
  offerCams();
  const general = h('p', { class: 'form-error', role: 'alert' });
  const save = h('button', { class: 'btn btn-primary', type: 'submit', 'data-testid': 'save-list' }, list ? 'Save' : 'Create list');
  const value = (k: string) => inputs.get(k)!.value.trim();
  const body = () => ({
    name: value('name'),
    type: value('type'),
    edge_id: value('edge_id') || null,
    camera_ids: camBoxes.filter((b) => b.checked).map((b) => b.value),
    direction: value('direction'),
    match: { mode: value('match.mode'), confusable_cost: Number(value('match.confusable_cost') || 0), max_distance: Number(value('match.max_distance') || 0) },
    timezone: value('timezone') || null,
    enabled: (inputs.get('enabled') as HTMLInputElement).checked,
  });
  const del = async () => {
    if (!list || !confirm(`Delete list “${list.name}” and its ${list.entries_count} entries? The edges stop deciding with it once they sync.`)) return;
    try {
      await api('DELETE', listPath(list.id));
      toast(`Deleted list ${list.name}`);
      location.hash = '#/lists';
    } catch (x) {
      toast((x as Error).message, 'error');
    }
  };
  return h(
    'form',
    {
      class: 'card',
      novalidate: true,
      'data-testid': 'list-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        if (!admin) return;
        general.textContent = '';
        for (const el of errs.values()) el.textContent = '';
        save.disabled = true;
        try {
          const saved = list ? await api<AccessList>('PUT', listPath(list.id), { json: body() }) : await api<AccessList>('POST', '/config/lists', { json: body() });
          toast(`${list ? 'Saved' : 'Created'} list ${saved.name}`);
          onSaved(saved);
        } catch (x) {
          showFieldErrors(x, errs, general);
        } finally {
          save.disabled = false;
        }
      },
    },
    h('h2', null, 'Settings'),
    h('div', { class: 'form-grid' }, rows),
    general,
    admin
      ? h('div', { class: 'form-actions' }, save, list ? h('button', { class: 'btn btn-danger', type: 'button', 'data-testid': 'delete-list', onclick: del }, 'Delete list') : h('a', { class: 'btn', href: '#/lists' }, 'Cancel'))
      : h('p', { class: 'muted', 'data-testid': 'read-only' }, 'Read only — admins change the lists'),
  );
}

/** Each field error next to the most specific field it names; the rest (or a summary) in `general`. */
function showFieldErrors(x: unknown, errs: Map<string, HTMLElement>, general: HTMLElement, prefix = ''): void {
  if (!(x instanceof ApiError) || !x.fields.length) {
    general.textContent = (x as Error).message;
    return;
  }
  const rest: string[] = [];
  for (const fe of x.fields) {
    const f = prefix && fe.field.startsWith(prefix) ? fe.field.slice(prefix.length) : fe.field;
    const key = [...errs.keys()].filter((k) => f === k || f.startsWith(`${k}.`)).sort((a, b) => b.length - a.length)[0];
    if (key) errs.get(key)!.textContent = fe.message;
    else rest.push(fe.message);
  }
  general.textContent = rest.length ? rest.join('; ') : 'Please fix the fields marked in red.';
}

/** Entries: a prefix search, pages of ENTRIES_PAGE, add/update and remove, CSV import and export. */
function entriesCard(box: HTMLElement, list: AccessListDetail, admin: boolean, changed: () => Promise<AccessListDetail | null>): void {
  let skip = 0;
  let total = list.entries_count;
  const search = h('input', { id: 'entry-search', type: 'search', placeholder: 'Plate starts with…', autocomplete: 'off', spellcheck: 'false', maxlength: 64 });
  const table = h('div', { 'data-testid': 'entries' }, h('p', { class: 'muted' }, 'Loading…'));
  const count = h('span', { class: 'muted', 'data-testid': 'entries-total' });
  const prev = h('button', { class: 'btn', type: 'button', 'data-testid': 'entries-prev', onclick: () => { skip = Math.max(0, skip - ENTRIES_PAGE); void load(); } }, '‹ Previous');
  const next = h('button', { class: 'btn', type: 'button', 'data-testid': 'entries-next', onclick: () => { skip += ENTRIES_PAGE; void load(); } }, 'Next ›');
  const range = h('span', { class: 'muted', 'data-testid': 'entries-range' });

  const remove = async (e: ListEntry) => {
    if (!confirm(`Remove ${e.plate} from “${list.name}”?`)) return;
    try {
      await api('DELETE', `${listPath(list.id)}/entries/${enc(e.plate)}`);
      toast(`Removed ${e.plate}`);
      await afterChange();
    } catch (x) {
      toast((x as Error).message, 'error');
    }
  };
  let loadSeq = 0;
  const load = async () => {
    const seq = ++loadSeq;
    try {
      const page = await api<Page<ListEntry>>('GET', `${listPath(list.id)}/entries`, { query: { skip, limit: ENTRIES_PAGE, q: search.value.trim() || undefined } });
      if (seq !== loadSeq) return;
      total = page.total;
      if (skip > 0 && skip >= total) {
        skip = Math.max(0, Math.floor((total - 1) / ENTRIES_PAGE) * ENTRIES_PAGE);
        return load();
      }
      count.textContent = `${total.toLocaleString()} entr${total === 1 ? 'y' : 'ies'}${search.value.trim() ? ' match' : ''}`;
      range.textContent = total ? `${skip + 1}–${Math.min(skip + ENTRIES_PAGE, total)} of ${total.toLocaleString()}` : '';
      prev.disabled = skip === 0;
      next.disabled = skip + ENTRIES_PAGE >= total;
      clear(
        table,
        page.items.length
          ? h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'table', 'data-testid': 'entries-table' },
                h('thead', null, h('tr', null, ['Plate', 'Label', 'Valid from', 'Valid until', 'Schedule', 'RFID', ''].map((t) => h('th', null, t)))),
                h(
                  'tbody',
                  null,
                  page.items.map((e) =>
                    h(
                      'tr',
                      { 'data-plate': e.plate },
                      h('td', null, h('span', { class: 'plate plate-sm' }, e.plate)),
                      h('td', null, e.label ?? '—'),
                      h('td', null, e.valid_from ? fmtTime(e.valid_from) : '—'),
                      h('td', null, e.valid_until ? fmtTime(e.valid_until) : '—'),
                      h('td', null, e.schedule.length ? h('code', null, formatSchedule(e.schedule)) : 'any time'),
                      h('td', null, e.rfid ? h('code', null, e.rfid) : '—'),
                      h('td', { class: 'actions' }, admin ? [h('button', { class: 'btn btn-small', type: 'button', onclick: () => edit(e) }, 'Edit'), h('button', { class: 'btn btn-small btn-danger', type: 'button', 'data-testid': 'remove-entry', onclick: () => remove(e) }, 'Remove')] : null),
                    ),
                  ),
                ),
              ),
            )
          : h('p', { class: 'empty' }, search.value.trim() ? 'No plate starts with that.' : admin ? 'No entries yet: add one or import a CSV.' : 'No entries yet.'),
      );
    } catch (x) {
      if (seq === loadSeq) clear(table, h('p', { class: 'form-error' }, errorText(x)));
    }
  };
  const afterChange = async () => {
    const fresh = await changed();
    if (fresh) total = fresh.entries_count;
    await load();
  };
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      skip = 0;
      void load();
    }, 200);
  });

  // Export: a link to the CSV; the click fetches it with the session's token (an <a> cannot send one).
  const exportLink = h(
    'a',
    {
      class: 'btn',
      href: `${listPath(list.id)}/entries.csv`,
      download: `${list.id}.csv`,
      'data-testid': 'export-csv',
      onclick: async (e: Event) => {
        e.preventDefault();
        try {
          await download(`${listPath(list.id)}/entries.csv`, {}, `${list.id}.csv`);
        } catch (x) {
          toast((x as Error).message, 'error');
        }
      },
    },
    'Export CSV',
  );

  const { el: addForm, edit } = entryForm(list, admin, afterChange);
  clear(
    box,
    h(
      'section',
      { class: 'card', 'data-testid': 'entries-card' },
      h('div', { class: 'card-head' }, h('h2', null, 'Entries ', count), h('div', { class: 'head-tools' }, exportLink)),
      h('div', { class: 'entry-tools' }, h('div', { class: 'field' }, h('label', { for: 'entry-search' }, 'Search plates'), search)),
      table,
      h('div', { class: 'pager' }, prev, range, next),
    ),
    admin ? addForm : null,
    admin ? importForm(list, afterChange) : null,
  );
  void load();
}

/** Add an entry, or (Edit) update one: `POST …/entries` upserts by plate. */
function entryForm(list: AccessListDetail, admin: boolean, changed: () => Promise<void>): { el: HTMLElement; edit: (e: ListEntry) => void } {
  const errs = new Map<string, HTMLElement>();
  const inputs: Record<string, HTMLInputElement> = {};
  const field = (key: string, label: string, input: HTMLInputElement, help?: string) => {
    input.id = `entry-${key}`;
    inputs[key] = input;
    const err = h('span', { class: 'field-error' });
    errs.set(key, err);
    return h('div', { class: 'field', 'data-key': key }, h('label', { for: input.id }, label), input, help ? h('small', { class: 'help' }, help) : null, err);
  };
  const general = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { class: 'btn btn-primary', type: 'submit', 'data-testid': 'add-entry' }, 'Add entry');
  const el = h(
    'form',
    {
      class: 'card',
      novalidate: true,
      'data-testid': 'entry-form',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        if (!admin) return;
        general.textContent = '';
        for (const x of errs.values()) x.textContent = '';
        let schedule;
        try {
          schedule = parseSchedule(inputs.schedule!.value);
        } catch (x) {
          errs.get('schedule')!.textContent = (x as Error).message;
          return;
        }
        const entry = {
          plate: inputs.plate!.value.trim(),
          label: inputs.label!.value.trim() || null,
          valid_from: fromLocalInput(inputs.valid_from!.value) ?? null,
          valid_until: fromLocalInput(inputs.valid_until!.value) ?? null,
          schedule,
          rfid: inputs.rfid!.value.trim() || null,
        };
        submit.disabled = true;
        try {
          await api('POST', `${listPath(list.id)}/entries`, { json: { entries: [entry] } });
          toast(`Saved ${entry.plate}`);
          (el as HTMLFormElement).reset();
          submit.textContent = 'Add entry';
          await changed();
        } catch (x) {
          showFieldErrors(x, errs, general, 'entries.0.');
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h2', null, 'Add or update an entry'),
    h('p', { class: 'help' }, 'Plates are stored normalised (AB-123 and ab 123 are AB123); saving a plate that is already on the list updates it.'),
    h(
      'div',
      { class: 'form-grid' },
      field('plate', 'Plate *', h('input', { maxlength: 64, autocomplete: 'off', spellcheck: 'false', required: true, class: 'plate-input' })),
      field('label', 'Label', h('input', { maxlength: 128, autocomplete: 'off', placeholder: 'who or what' })),
      field('valid_from', 'Valid from', h('input', { type: 'datetime-local' })),
      field('valid_until', 'Valid until', h('input', { type: 'datetime-local' })),
      field('schedule', 'Schedule', h('input', { autocomplete: 'off', spellcheck: 'false', placeholder: 'mon-fri 07:00-19:00; sat 08:00-12:00' }), 'Empty = any time; from after to runs over midnight'),
      field('rfid', 'RFID tag', h('input', { maxlength: 64, autocomplete: 'off', spellcheck: 'false' }), 'Second factor: opens only with this tag'),
    ),
    general,
    h('div', { class: 'form-actions' }, submit),
  );
  const edit = (e: ListEntry) => {
    inputs.plate!.value = e.plate;
    inputs.label!.value = e.label ?? '';
    inputs.valid_from!.value = toLocalInput(e.valid_from ?? undefined);
    inputs.valid_until!.value = toLocalInput(e.valid_until ?? undefined);
    inputs.schedule!.value = formatSchedule(e.schedule);
    inputs.rfid!.value = e.rfid ?? '';
    submit.textContent = 'Update entry';
    el.scrollIntoView({ block: 'nearest' });
    inputs.label!.focus();
  };
  return { el, edit };
}

/** CSV import: the file as `text/csv`, added to the entries (POST) or replacing them (PUT). */
function importForm(list: AccessListDetail, changed: () => Promise<void>): HTMLElement {
  const file = h('input', { id: 'csv-file', type: 'file', accept: '.csv,text/csv', 'data-testid': 'csv-file' });
  const replace = h('input', { id: 'csv-replace', type: 'checkbox', 'data-testid': 'csv-replace' });
  const result = h('div', { 'data-testid': 'csv-result', 'aria-live': 'polite' });
  const go = h('button', { class: 'btn btn-primary', type: 'submit', 'data-testid': 'csv-import' }, 'Import');
  return h(
    'form',
    {
      class: 'card',
      'data-testid': 'import-form',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const f = file.files?.[0];
        clear(result);
        if (!f) {
          clear(result, h('p', { class: 'form-error' }, 'Choose a CSV file first.'));
          return;
        }
        if (replace.checked && !confirm(`Replace all ${list.entries_count} entries of “${list.name}” with the file's?`)) return;
        go.disabled = true;
        try {
          const r = await raw(replace.checked ? 'PUT' : 'POST', `${listPath(list.id)}/entries`, { body: f, headers: { 'content-type': 'text/csv' } });
          const b = (await r.json().catch(() => ({}))) as { list?: { entries_count: number }; added?: number; updated?: number; removed?: number };
          const n = (k: 'added' | 'updated' | 'removed') => (b[k] ?? 0).toLocaleString();
          clear(result, h('p', { class: 'ok-text', 'data-testid': 'csv-ok' }, `✔ Imported ${f.name}: ${n('added')} added, ${n('updated')} updated${replace.checked ? `, ${n('removed')} removed` : ''}${b.list ? `; the list has ${b.list.entries_count.toLocaleString()} entries` : ''}.`));
          (ev.target as HTMLFormElement).reset();
          await changed();
        } catch (x) {
          const fields = x instanceof ApiError ? x.fields : [];
          clear(
            result,
            h('p', { class: 'form-error', role: 'alert', 'data-testid': 'csv-error' }, `${(x as Error).message}`),
            fields.length ? h('ul', { class: 'csv-errors', 'data-testid': 'csv-errors' }, fields.map((fe) => h('li', { 'data-field': fe.field }, fe.message))) : null,
          );
        } finally {
          go.disabled = false;
        }
      },
    },
    h('h2', null, 'Import CSV'),
    h('p', { class: 'help' }, 'Header ', h('code', null, 'plate,label,valid_from,valid_until,schedule,rfid'), ' (only plate is required); schedule as ', h('code', null, 'mon-fri 07:00-19:00; sat 08:00-12:00'), '. A file with any bad line is refused whole: nothing is stored.'),
    h('div', { class: 'entry-tools' }, h('div', { class: 'field' }, h('label', { for: 'csv-file' }, 'CSV file'), file), h('div', { class: 'field field-check' }, h('label', { for: 'csv-replace' }, 'Replace all entries'), replace), h('div', { class: 'field' }, go)),
    result,
  );
}
