/**
 * Edges (gate boxes): each one's health as the cloud last heard it (`GET /edges`), and one
 * edge's detail (`#/edges/ID`): its cameras, config problems, outbox and keys.
 *
 * Live: status changes arrive as `edge_status` messages on `/events/stream` and refresh that
 * edge at once; the page also re-reads every 10 s, which keeps "last seen" true and covers a
 * stream that is down. Admins add an edge (its first key, shown once with the config snippet
 * for the box), make and revoke its keys, and delete it.
 */
import { api, refresh, session, token } from '../api.js';
import { clear, fmtTime, h, toast } from '../dom.js';
import { cameraNames } from '../lookups.js';
import type { ApiKey, Edge, EdgeStatusMessage, EdgeStatusName } from '../types.js';
import { EDGE_ID_PATTERN, errorText, keyOnce, keysTable } from './keys.js';

const POLL_MS = 10_000;

/** Every registered edge. */
export async function listEdges(): Promise<Edge[]> {
  return (await api<{ items: Edge[] }>('GET', '/edges')).items;
}

const STATUS_TEXT: Record<EdgeStatusName, string> = { online: '● online', degraded: '▲ degraded', offline: '■ offline' };

/** The status as a coloured pill that also says it in words (and a shape), never colour alone. */
export function statusPill(s: EdgeStatusName): HTMLElement {
  return h('span', { class: `pill edge-${s}`, 'data-testid': 'edge-status', 'data-status': s }, STATUS_TEXT[s] ?? s);
}

/** "12 s ago", "3 min ago", "5 h ago", "2 d ago"; "never" for null. */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function lastSeen(e: Edge): HTMLElement {
  return h('time', { datetime: e.last_seen_at ?? undefined, title: e.last_seen_at ? fmtTime(e.last_seen_at) : 'No heartbeat received yet', 'data-testid': 'last-seen' }, ago(e.last_seen_at));
}

const running = (e: Edge) => e.cameras.filter((c) => c.state === 'running' && e.assigned_cameras.includes(c.id)).length;
const pending = (e: Edge) => e.config.version !== e.config.current_version;

function configCell(e: Edge): HTMLElement {
  return h(
    'span',
    { class: 'cfg', 'data-testid': 'edge-config' },
    h('code', { title: `In force on the edge: ${e.config.version ?? 'none yet'}; the cloud serves ${e.config.current_version}` }, e.config.version ? e.config.version.slice(0, 8) : '—'),
    pending(e) ? h('span', { class: 'tag tag-warn', title: 'The edge has not applied the current config yet' }, 'pending') : null,
    e.config.error ? h('span', { class: 'field-error', 'data-testid': 'config-error' }, e.config.error) : null,
  );
}

function problemsOf(e: Edge): string[] {
  return [...e.problems, ...e.config.problems.map((p) => `${p.kind.replace(/s$/, '')} ${p.id}: ${p.errors.join('; ')}`)];
}

/** Opens `/events/stream` for `edge_status` messages; reconnects with backoff until stopped. */
function edgeStream(onStatus: (m: EdgeStatusMessage['data']) => void, onState: (live: boolean) => void): () => void {
  let ws: WebSocket | null = null;
  let stopped = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connect = async () => {
    const tok = await token();
    if (!tok || stopped) return;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(`${proto}://${location.host}/events/stream?${new URLSearchParams({ token: tok })}`);
    ws.onopen = () => {
      attempt = 0;
      onState(true);
    };
    ws.onmessage = (m) => {
      try {
        const msg = JSON.parse(String(m.data)) as { type?: string; data?: EdgeStatusMessage['data'] };
        if (msg.type === 'edge_status' && msg.data) onStatus(msg.data);
      } catch {
        // ignore a malformed message
      }
    };
    ws.onclose = async (e) => {
      ws = null;
      onState(false);
      if (stopped) return;
      if (e.code === 4401) await refresh();
      if (stopped) return;
      timer = setTimeout(() => void connect(), Math.round(Math.random() * Math.min(15_000, 1000 * 2 ** attempt++)) + 250);
    };
  };
  void connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    ws?.close();
  };
}

/** Re-reads every POLL_MS and on each `edge_status` message; the returned function stops both. */
function keepFresh(reload: (id?: string) => Promise<void>, streamPill: HTMLElement): () => void {
  const poll = setInterval(() => void reload(), POLL_MS);
  const stop = edgeStream(
    (m) => void reload(m.id),
    (live) => {
      streamPill.className = `pill ${live ? 'pill-ok' : 'pill-wait'}`;
      streamPill.textContent = live ? 'Live' : 'Polling';
    },
  );
  return () => {
    clearInterval(poll);
    stop();
  };
}

export async function renderEdges(root: HTMLElement, [id]: string[]): Promise<() => void> {
  return id ? renderDetail(root, id) : renderList(root);
}

async function renderList(root: HTMLElement): Promise<() => void> {
  const admin = session.can('admin');
  const streamPill = h('span', { class: 'pill pill-wait', 'data-testid': 'edges-live' }, 'Connecting…');
  const addBox = h('div', null);
  const body = h('div', { 'data-testid': 'edges-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const addBtn = admin ? h('button', { class: 'btn btn-primary', type: 'button', 'data-testid': 'add-edge', onclick: () => showAdd() }, 'Add edge') : null;
  clear(root, h('section', { class: 'page-head' }, h('h1', null, 'Edges'), h('div', { class: 'head-tools' }, streamPill, addBtn)), addBox, body);

  let edges: Edge[] = [];
  const row = (e: Edge) =>
    h(
      'tr',
      { 'data-id': e.id, class: 'row-link', onclick: (ev: Event) => { if (!(ev.target as Element).closest('a')) location.hash = `#/edges/${encodeURIComponent(e.id)}`; } },
      h('td', null, h('a', { href: `#/edges/${encodeURIComponent(e.id)}` }, e.name), e.name !== e.id ? h('div', null, h('code', { class: 'muted' }, e.id)) : null),
      h('td', null, statusPill(e.status)),
      h('td', null, lastSeen(e)),
      h('td', null, e.version ?? '—'),
      h('td', { 'data-testid': 'cameras-up', title: 'Cameras running / assigned to this edge' }, `${running(e)} / ${e.assigned_cameras.length}`),
      h('td', { 'data-testid': 'outbox' }, `${e.outbox.pending} pending`, e.outbox.dead_letters ? h('span', { class: 'tag tag-bad' }, `${e.outbox.dead_letters} dead`) : null),
      h('td', null, configCell(e)),
      h('td', { class: 'problems' }, problemsOf(e).length ? h('ul', { class: 'problem-list' }, problemsOf(e).slice(0, 3).map((p) => h('li', null, p)), problemsOf(e).length > 3 ? h('li', { class: 'muted' }, `+${problemsOf(e).length - 3} more`) : null) : '—'),
    );
  const draw = () => {
    clear(
      body,
      h(
        'section',
        { class: 'card' },
        edges.length
          ? h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'table', 'data-testid': 'edges-table' },
                h('thead', null, h('tr', null, ['Edge', 'Status', 'Last seen', 'Version', 'Cameras up', 'Outbox', 'Config', 'Problems'].map((t) => h('th', null, t)))),
                h('tbody', null, edges.map(row)),
              ),
            )
          : h('p', { class: 'empty' }, admin ? 'No edges yet. Add one: its key goes into the gate box\'s config.' : 'No edges yet.'),
      ),
    );
  };
  const reload = async (one?: string) => {
    try {
      if (one && edges.some((e) => e.id === one)) {
        const e = await api<Edge>('GET', `/edges/${encodeURIComponent(one)}`);
        edges = edges.map((x) => (x.id === one ? e : x));
      } else edges = await listEdges();
      draw();
    } catch (e) {
      clear(body, h('p', { class: 'card form-error' }, (e as Error).message));
    }
  };

  const showAdd = () => {
    const idIn = h('input', { id: 'edge-id', required: true, maxlength: 128, pattern: EDGE_ID_PATTERN, placeholder: 'e.g. gate-2', autocomplete: 'off', spellcheck: 'false' });
    const nameIn = h('input', { id: 'edge-name', maxlength: 64, placeholder: 'optional, default: the id', autocomplete: 'off' });
    const err = h('p', { class: 'form-error', role: 'alert' });
    clear(
      addBox,
      h(
        'form',
        {
          class: 'card',
          'data-testid': 'add-edge-form',
          onsubmit: async (ev: Event) => {
            ev.preventDefault();
            err.textContent = '';
            const edge_id = idIn.value.trim();
            const json: Record<string, string> = { edge_id };
            if (nameIn.value.trim()) json.name = nameIn.value.trim();
            try {
              const k = await api<ApiKey & { key: string }>('POST', '/api-keys', { json });
              clear(addBox, h('section', { class: 'card' }, h('h2', null, `Edge ${edge_id} added`), keyOnce({ name: k.name, edge_id: k.edge_id ?? edge_id, key: k.key }), h('button', { class: 'btn', type: 'button', onclick: () => clear(addBox) }, 'Done')));
              await reload();
            } catch (x) {
              err.textContent = errorText(x);
            }
          },
        },
        h('h2', null, 'Add edge'),
        h('p', { class: 'help' }, 'An edge is registered with its first API key; the key goes into the gate box\'s config file.'),
        h('div', { class: 'form-grid' }, h('div', { class: 'field' }, h('label', { for: 'edge-id' }, 'Edge id *'), idIn), h('div', { class: 'field' }, h('label', { for: 'edge-name' }, 'Key name'), nameIn)),
        err,
        h('div', { class: 'form-actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, 'Create edge and key'), h('button', { class: 'btn', type: 'button', onclick: () => clear(addBox) }, 'Cancel')),
      ),
    );
    idIn.focus();
  };

  await reload();
  return keepFresh(reload, streamPill);
}

async function renderDetail(root: HTMLElement, id: string): Promise<() => void> {
  const admin = session.can('admin');
  const streamPill = h('span', { class: 'pill pill-wait', 'data-testid': 'edges-live' }, 'Connecting…');
  const head = h('section', { class: 'page-head' }, h('div', null, h('a', { class: 'back', href: '#/edges' }, '← Edges'), h('h1', null, `Edge ${id}`)), h('div', { class: 'head-tools' }, streamPill));
  const body = h('div', { 'data-testid': 'edge-detail' }, h('p', { class: 'muted' }, 'Loading…'));
  const keysBox = h('div', null);
  clear(root, head, body, keysBox);
  const names = await cameraNames();
  let shownKey: { name: string; edge_id: string; key: string } | undefined;

  const draw = (e: Edge) => {
    const reported = new Map(e.cameras.map((c) => [c.id, c]));
    const ids = [...new Set([...e.assigned_cameras, ...e.cameras.map((c) => c.id)])];
    const del = async () => {
      const n = e.assigned_cameras.length;
      const msg = `Delete edge “${e.name}”? Its keys are revoked${n ? `, and its ${n} camera${n === 1 ? '' : 's'} become${n === 1 ? 's' : ''} unassigned: no edge captures ${n === 1 ? 'it' : 'them'} until you assign ${n === 1 ? 'it' : 'them'} to another` : ''}.`;
      if (!confirm(msg)) return;
      try {
        await api('DELETE', `/edges/${encodeURIComponent(e.id)}`);
        toast(`Deleted edge ${e.id}`);
        location.hash = '#/edges';
      } catch (x) {
        toast((x as Error).message, 'error');
      }
    };
    head.querySelector('h1')!.replaceChildren(`Edge ${e.name}`, ' ', statusPill(e.status));
    clear(
      body,
      h(
        'div',
        { class: 'detail-grid' },
        h(
          'section',
          { class: 'card' },
          h('h2', null, 'Health'),
          h(
            'dl',
            { class: 'facts' },
            h('dt', null, 'Id'), h('dd', null, h('code', null, e.id)),
            h('dt', null, 'Status'), h('dd', null, statusPill(e.status)),
            h('dt', null, 'Last seen'), h('dd', null, lastSeen(e), e.last_seen_at ? ` (${fmtTime(e.last_seen_at)})` : null),
            h('dt', null, 'Version'), h('dd', null, e.version ?? '—'),
            h('dt', null, 'Uptime'), h('dd', null, e.uptime_s === null ? '—' : ago(new Date(Date.now() - e.uptime_s * 1000).toISOString()).replace(' ago', '')),
            h('dt', null, 'Heartbeat'), h('dd', null, `every ${e.interval_s} s`),
            h('dt', null, 'Clock skew'), h('dd', null, e.clock_skew_s === null ? '—' : `${e.clock_skew_s.toFixed(1)} s`),
            h('dt', null, 'Outbox'), h('dd', { 'data-testid': 'outbox' }, `${e.outbox.pending} pending, ${e.outbox.dead_letters} dead letters`),
            h('dt', null, 'Config'), h('dd', null, configCell(e), e.config.applied_at ? h('div', { class: 'help' }, `applied ${fmtTime(e.config.applied_at)}`) : null),
          ),
          e.outbox.exporters.length
            ? h('table', { class: 'table' }, h('thead', null, h('tr', null, h('th', null, 'Exporter'), h('th', null, 'Pending'), h('th', null, 'Dead letters'))), h('tbody', null, e.outbox.exporters.map((x) => h('tr', null, h('td', null, x.id), h('td', null, x.pending), h('td', null, x.dead_letters)))))
            : null,
          admin ? h('div', { class: 'form-actions' }, h('button', { class: 'btn btn-danger', type: 'button', 'data-testid': 'delete-edge', onclick: del }, 'Delete edge')) : null,
        ),
        h(
          'section',
          { class: 'card' },
          h('h2', null, `Cameras (${ids.length})`),
          ids.length
            ? h(
                'table',
                { class: 'table', 'data-testid': 'edge-cameras' },
                h('thead', null, h('tr', null, h('th', null, 'Camera'), h('th', null, 'State'), h('th', null, 'FPS'), h('th', null, 'Error'))),
                h(
                  'tbody',
                  null,
                  ids.map((cid) => {
                    const c = reported.get(cid);
                    const assigned = e.assigned_cameras.includes(cid);
                    return h(
                      'tr',
                      { 'data-id': cid },
                      h('td', null, h('a', { href: `#/config/cameras/${encodeURIComponent(cid)}` }, names.get(cid) ?? cid), assigned ? null : h('span', { class: 'tag tag-warn', title: 'The edge runs it, but the cloud no longer assigns it to this edge' }, 'not assigned')),
                      h('td', null, c ? h('span', { class: `cam-state cam-${c.state}`, 'data-testid': 'cam-state' }, c.state) : h('span', { class: 'muted', 'data-testid': 'cam-state' }, 'not reported')),
                      h('td', null, c ? c.fps.toFixed(1) : '—'),
                      h('td', null, c?.error ?? ''),
                    );
                  }),
                ),
              )
            : h('p', { class: 'empty' }, 'No cameras assigned. Assign one in its camera form (Config → Cameras).'),
          h('h2', null, 'Problems'),
          problemsOf(e).length ? h('ul', { class: 'problem-list', 'data-testid': 'edge-problems' }, problemsOf(e).map((p) => h('li', null, p))) : h('p', { class: 'muted', 'data-testid': 'edge-problems' }, 'None reported.'),
        ),
      ),
    );
  };

  const drawKeys = async () => {
    if (!admin) return;
    try {
      const keys = (await api<{ items: ApiKey[] }>('GET', '/api-keys', { query: { edge_id: id } })).items.filter((k) => k.edge_id === undefined || k.edge_id === id);
      const revoke = async (k: ApiKey) => {
        if (!confirm(`Revoke key “${k.name}”? The edge using it stops delivering events.`)) return;
        try {
          await api('DELETE', `/api-keys/${encodeURIComponent(k.id)}`);
          toast(`Revoked ${k.name}`);
          shownKey = undefined;
          await drawKeys();
        } catch (x) {
          toast((x as Error).message, 'error');
        }
      };
      const err = h('p', { class: 'form-error', role: 'alert' });
      const create = async () => {
        try {
          const k = await api<ApiKey & { key: string }>('POST', '/api-keys', { json: { edge_id: id } });
          shownKey = { name: k.name, edge_id: id, key: k.key };
          await drawKeys();
        } catch (x) {
          err.textContent = errorText(x);
        }
      };
      clear(
        keysBox,
        h(
          'section',
          { class: 'card', 'data-testid': 'edge-keys' },
          h('div', { class: 'card-head' }, h('h2', null, 'API keys'), h('button', { class: 'btn btn-primary', type: 'button', 'data-testid': 'create-edge-key', onclick: create }, 'Create key')),
          shownKey ? keyOnce(shownKey) : null,
          err,
          keysTable(keys, revoke, false),
        ),
      );
    } catch (x) {
      clear(keysBox, h('p', { class: 'card form-error' }, (x as Error).message));
    }
  };

  const reload = async (one?: string) => {
    if (one && one !== id) return;
    try {
      draw(await api<Edge>('GET', `/edges/${encodeURIComponent(id)}`));
    } catch (x) {
      clear(body, h('p', { class: 'card form-error' }, (x as Error).message));
    }
  };
  await reload();
  await drawKeys();
  return keepFresh(reload, streamPill);
}
