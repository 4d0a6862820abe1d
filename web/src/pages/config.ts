/**
 * Config: cameras, zones, sensors, models, exporters (generic list + form per kind), edge
 * API keys and users. Viewers and operators see everything read-only; admins change it.
 */
import { ApiError, api, imageUrl, session, token } from '../api.js';
import { clear, fmtTime, h, toast } from '../dom.js';
import type { Page, Resource } from '../types.js';
import { listAll } from '../lookups.js';
import { listEdges } from './edges.js';
import { zoneEditor, type Geometry } from './zone-editor.js';
import { renderKeys } from './keys.js';
import { renderUsers } from './users.js';

type FieldType = 'text' | 'number' | 'bool' | 'select' | 'json' | 'list' | 'ref' | 'password' | 'edge' | 'options';
interface Field {
  key: string;
  label: string;
  type: FieldType;
  options?: string[];
  ref?: 'cameras' | 'zones';
  nullable?: boolean;
  required?: boolean;
  help?: string;
  placeholder?: string;
  /** json fields: keys shown and edited by their own fields instead (kept out of the JSON). */
  exclude?: string[];
  /** edge fields: the label of the null choice ("— none —", "All edges"). */
  nullLabel?: string;
}
interface Kind {
  kind: string;
  title: string;
  noun: string;
  fields: Field[];
  columns: Array<[string, (r: Resource) => string]>;
}

const str = (v: unknown) => (v === null || v === undefined || v === '' ? '—' : String(v));
const get = (o: Record<string, unknown>, path: string): unknown => path.split('.').reduce<unknown>((a, k) => (a && typeof a === 'object' ? (a as Record<string, unknown>)[k] : undefined), o);
function set(o: Record<string, unknown>, path: string, v: unknown): void {
  const ks = path.split('.');
  let cur = o;
  for (const k of ks.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
  cur[ks[ks.length - 1]!] = v;
}

const KINDS: Kind[] = [
  {
    kind: 'cameras',
    title: 'Cameras',
    noun: 'camera',
    fields: [
      { key: 'name', label: 'Name', type: 'text', required: true },
      { key: 'rtsp_url', label: 'RTSP URL', type: 'text', required: true, placeholder: 'rtsp://user:password@192.168.1.20:554/stream1' },
      { key: 'enabled', label: 'Enabled', type: 'bool' },
      { key: 'edge_id', label: 'Edge', type: 'edge', nullable: true, nullLabel: '— none —', help: 'The gate box that captures this camera; none = no edge captures it' },
      { key: 'zone_id', label: 'Default zone', type: 'ref', ref: 'zones', nullable: true },
      { key: 'fps', label: 'Frames per second', type: 'number', placeholder: '10' },
      { key: 'resolution.width', label: 'Analysis width', type: 'number', placeholder: '1920' },
      { key: 'resolution.height', label: 'Analysis height', type: 'number', placeholder: '1080' },
      { key: 'detection_model', label: 'Detection model', type: 'text', nullable: true },
      { key: 'ocr_models', label: 'OCR engines', type: 'list', help: 'Comma-separated engine names' },
      // Per-camera recognition settings (metadata.recognition; empty = the edge's default).
      { key: 'metadata.recognition.regions', label: 'Plate regions', type: 'list', nullable: true, placeholder: 'us, eu', help: 'Plate formats this camera sees: us, eu, br, lt' },
      { key: 'metadata.recognition.min_plate_height', label: 'Smallest plate height (px)', type: 'number', nullable: true, placeholder: 'any' },
      { key: 'metadata.recognition.min_confidence', label: 'Minimum confidence', type: 'number', nullable: true, placeholder: '0.5', help: '0–1: a read below it never becomes an event' },
      { key: 'metadata.recognition.confirm_frames', label: 'Frames to confirm', type: 'number', nullable: true, placeholder: '2', help: 'Agreeing frames that decide while the car is in view (1–10)' },
      { key: 'metadata.recognition.hwaccel', label: 'Hardware decoding', type: 'select', options: ['', 'none', 'nvdec', 'jetson'], nullable: true },
      { key: 'metadata.recognition.roi', label: 'Region of interest (JSON)', type: 'json', nullable: true, placeholder: '{"x": 0, "y": 360, "width": 1280, "height": 360}' },
      // Per-camera capture settings (metadata.capture; empty = the edge's own setting).
      { key: 'metadata.capture.heartbeat_s', label: 'Stream silence limit (s)', type: 'number', nullable: true, placeholder: '10', help: 'No frame for this long = stream dead, ffmpeg restarted (1–300)' },
      { key: 'metadata.capture.input_options', label: 'ffmpeg input options', type: 'options', nullable: true, placeholder: '-rtsp_transport tcp\n-analyzeduration 2000000', help: 'One option and its value per line; only allowed options (-rtsp_transport, -timeout, -analyzeduration, -probesize, -fflags, …)' },
      { key: 'metadata', label: 'Metadata (JSON)', type: 'json', exclude: ['recognition', 'capture'] },
    ],
    columns: [
      ['Name', (r) => str(r.name)],
      ['Stream', (r) => str(r.rtsp_url).replace(/\/\/[^@/]+@/, '//***@')],
      ['Edge', (r) => (r.edge_id ? String(r.edge_id) : 'none')],
      ['Enabled', (r) => (r.enabled ? 'yes' : 'no')],
      ['FPS', (r) => str(r.fps)],
      ['Regions', (r) => { const g = get(r, 'metadata.recognition.regions'); return Array.isArray(g) && g.length ? g.join(', ') : 'default'; }],
    ],
  },
  {
    kind: 'zones',
    title: 'Zones',
    noun: 'zone',
    fields: [
      { key: 'name', label: 'Name', type: 'text', required: true },
      { key: 'camera_id', label: 'Camera', type: 'ref', ref: 'cameras', required: true },
      { key: 'type', label: 'Type', type: 'select', options: ['monitor', 'enter', 'exit', 'both', 'parking', 'restricted'] },
      {
        key: 'in_side',
        label: 'In side',
        type: 'select',
        options: ['', 'left', 'right'],
        nullable: true,
        nullLabel: '— no direction —',
        help: "Which side of the gate line is 'in', seen walking from its first point to its second (a polygon's gate line is its first edge)",
      },
      { key: 'metadata', label: 'Metadata (JSON)', type: 'json' },
    ],
    columns: [
      ['Name', (r) => str(r.name)],
      ['Camera', (r) => str(r.camera_id)],
      ['Type', (r) => str(r.type)],
      ['Shape', (r) => (get(r, 'geometry.type') === 'line' ? 'gate line' : `${str((get(r, 'geometry.points') as unknown[] | undefined)?.length)} points`)],
    ],
  },
  {
    kind: 'sensors',
    title: 'Sensors',
    noun: 'sensor',
    fields: [
      { key: 'name', label: 'Name', type: 'text', required: true },
      { key: 'type', label: 'Type', type: 'select', options: ['tpms', 'barrier', 'rfid', 'loop', 'relay'], required: true },
      { key: 'camera_id', label: 'Camera', type: 'ref', ref: 'cameras', nullable: true },
      { key: 'zone_id', label: 'Zone', type: 'ref', ref: 'zones', nullable: true },
      { key: 'config', label: 'Settings (JSON)', type: 'json' },
      { key: 'metadata', label: 'Metadata (JSON)', type: 'json' },
    ],
    columns: [
      ['Name', (r) => str(r.name)],
      ['Type', (r) => str(r.type)],
      ['Camera', (r) => str(r.camera_id)],
      ['Zone', (r) => str(r.zone_id)],
    ],
  },
  {
    kind: 'models',
    title: 'Models',
    noun: 'model',
    fields: [
      { key: 'name', label: 'Name', type: 'text', required: true },
      { key: 'type', label: 'Type', type: 'select', options: ['detector', 'plate_detector', 'ocr', 'classifier'], required: true },
      { key: 'version', label: 'Version', type: 'text', placeholder: '1.0.0' },
      { key: 'weights_path', label: 'Weights file', type: 'text', required: true },
      { key: 'sha256', label: 'SHA-256', type: 'text' },
      { key: 'parameters', label: 'Parameters (JSON)', type: 'json' },
      { key: 'metadata', label: 'Metadata (JSON)', type: 'json' },
    ],
    columns: [
      ['Name', (r) => str(r.name)],
      ['Type', (r) => str(r.type)],
      ['Version', (r) => str(r.version)],
      ['Weights', (r) => str(r.weights_path)],
    ],
  },
  {
    kind: 'exporters',
    title: 'Exporters',
    noun: 'exporter',
    fields: [
      { key: 'name', label: 'Name', type: 'text', required: true },
      { key: 'type', label: 'Type', type: 'select', options: ['rest', 'mqtt', 'webhook'], required: true },
      { key: 'url', label: 'URL', type: 'text', required: true, placeholder: 'https://… or mqtt://…' },
      { key: 'edge_id', label: 'Edge', type: 'edge', nullable: true, nullLabel: 'All edges', help: 'The one edge that delivers to it; all edges = every edge does' },
      { key: 'enabled', label: 'Enabled', type: 'bool' },
      { key: 'headers', label: 'Headers (JSON)', type: 'json' },
      { key: 'auth', label: 'Auth (JSON)', type: 'json', help: '{"type":"bearer","token":"…"} · none · basic · api_key' },
      { key: 'config', label: 'Settings (JSON)', type: 'json', help: 'MQTT: topic, qos, retain, username, password' },
      { key: 'retry_config', label: 'Retry (JSON)', type: 'json' },
      { key: 'metadata', label: 'Metadata (JSON)', type: 'json' },
    ],
    columns: [
      ['Name', (r) => str(r.name)],
      ['Type', (r) => str(r.type)],
      ['URL', (r) => str(r.url)],
      ['Edge', (r) => (r.edge_id ? String(r.edge_id) : 'all')],
      ['Enabled', (r) => (r.enabled ? 'yes' : 'no')],
    ],
  },
];

function tabs(active: string): HTMLElement {
  const items: Array<[string, string]> = KINDS.map((k) => [k.kind, k.title]);
  if (session.can('admin')) items.push(['keys', 'API keys'], ['users', 'Users']);
  return h('nav', { class: 'tabs', 'aria-label': 'Config sections' }, items.map(([k, t]) => h('a', { href: `#/config/${k}`, class: k === active ? 'active' : undefined }, t)));
}

export async function renderConfig(root: HTMLElement, [tab, id]: string[]): Promise<void> {
  const which = tab || 'cameras';
  const body = h('div', { class: 'config-body' });
  clear(root, h('section', { class: 'page-head' }, h('h1', null, 'Config')), tabs(which), body);
  if (which === 'keys' || which === 'users') {
    if (!session.can('admin')) {
      clear(body, h('p', { class: 'card form-error' }, 'Only admins can manage API keys and users.'));
      return;
    }
    return which === 'keys' ? renderKeys(body) : renderUsers(body);
  }
  const kind = KINDS.find((k) => k.kind === which);
  if (!kind) {
    clear(body, h('p', { class: 'card' }, 'No such section.'));
    return;
  }
  if (id) return renderForm(body, kind, id);
  return renderList(body, kind);
}

async function renderList(root: HTMLElement, kind: Kind): Promise<void> {
  const admin = session.can('admin');
  let page: Page<Resource>;
  try {
    page = await api<Page<Resource>>('GET', `/config/${kind.kind}`, { query: { limit: 1000 } });
  } catch (e) {
    clear(root, h('p', { class: 'form-error' }, (e as Error).message));
    return;
  }
  const result = h('div', { class: 'test-result' });
  const del = async (r: Resource) => {
    if (!confirm(`Delete ${kind.noun} “${String(r.name ?? r.id)}”?`)) return;
    try {
      await api('DELETE', `/config/${kind.kind}/${encodeURIComponent(r.id)}`);
      toast(`Deleted ${r.id}`);
      await renderList(root, kind);
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  };
  clear(
    root,
    h(
      'section',
      { class: 'card' },
      h(
        'div',
        { class: 'card-head' },
        h('h2', null, `${kind.title} (${page.total})`),
        admin ? h('a', { class: 'btn btn-primary', href: `#/config/${kind.kind}/new`, 'data-testid': 'new-item' }, `New ${kind.noun}`) : h('span', { class: 'muted', 'data-testid': 'read-only' }, 'Read only — admins can change the config'),
      ),
      page.items.length
        ? h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'table', 'data-testid': `${kind.kind}-table` },
              h('thead', null, h('tr', null, h('th', null, 'Id'), kind.columns.map(([t]) => h('th', null, t)), h('th', null, ''))),
              h(
                'tbody',
                null,
                page.items.map((r) =>
                  h(
                    'tr',
                    { 'data-id': r.id },
                    h('td', null, h('code', null, r.id)),
                    kind.columns.map(([, f]) => h('td', null, f(r))),
                    h(
                      'td',
                      { class: 'actions' },
                      h('a', { class: 'btn btn-small', href: `#/config/${kind.kind}/${encodeURIComponent(r.id)}` }, admin ? 'Edit' : 'View'),
                      kind.kind === 'cameras' && admin ? h('button', { class: 'btn btn-small', type: 'button', onclick: () => testCamera(r.id, result) }, 'Test') : null,
                      kind.kind === 'exporters' && admin ? h('button', { class: 'btn btn-small', type: 'button', onclick: () => testExporter(r.id, result) }, 'Test') : null,
                      admin ? h('button', { class: 'btn btn-small btn-danger', type: 'button', onclick: () => del(r) }, 'Delete') : null,
                    ),
                  ),
                ),
              ),
            ),
          )
        : h('p', { class: 'empty' }, `No ${kind.title.toLowerCase()} yet.`),
    ),
    result,
  );
}

/** "Test connection": the stream's codec, size and rate, and a snapshot. */
async function testCamera(id: string, out: HTMLElement): Promise<void> {
  clear(out, h('section', { class: 'card' }, h('h2', null, `Testing ${id}…`), h('p', { class: 'muted' }, 'Connecting to the stream (up to 10 s).')));
  const r = await fetch(`/config/cameras/${encodeURIComponent(id)}/test`, { method: 'POST', headers: { authorization: `Bearer ${await token()}` } });
  const b = (await r.json()) as { status?: string; message?: string; detail?: string; error?: string; response_time_ms?: number; stream_info?: { codec: string; width: number; height: number; fps: number | null } };
  const snap = h('div', { class: 'snapshot' });
  clear(
    out,
    h(
      'section',
      { class: 'card', 'data-testid': 'test-result' },
      h('h2', null, `Connection test: ${id}`),
      b.status === 'success'
        ? [
            h('p', { class: 'ok-text' }, `✔ ${b.message} in ${b.response_time_ms} ms`),
            h('dl', { class: 'facts' }, h('dt', null, 'Codec'), h('dd', null, b.stream_info!.codec), h('dt', null, 'Size'), h('dd', null, `${b.stream_info!.width} × ${b.stream_info!.height}`), h('dt', null, 'Frame rate'), h('dd', null, b.stream_info!.fps === null ? '—' : `${b.stream_info!.fps} fps`)),
            snap,
          ]
        : h('p', { class: 'form-error' }, `✘ ${b.message ?? b.detail ?? 'failed'}`),
    ),
  );
  if (b.status === 'success') {
    snap.appendChild(h('p', { class: 'muted' }, 'Grabbing a snapshot…'));
    try {
      const u = await imageUrl(`/config/cameras/${encodeURIComponent(id)}/snapshot`);
      clear(snap, h('img', { src: u, alt: `Snapshot of ${id}`, class: 'snapshot-img' }));
    } catch (e) {
      clear(snap, h('p', { class: 'form-error' }, (e as Error).message));
    }
  }
}

async function testExporter(id: string, out: HTMLElement): Promise<void> {
  clear(out, h('section', { class: 'card' }, h('h2', null, `Testing ${id}…`)));
  const r = await fetch(`/config/exporters/${encodeURIComponent(id)}/test`, { method: 'POST', headers: { authorization: `Bearer ${await token()}` } });
  const b = (await r.json()) as { status?: string; message?: string; detail?: string; error?: string; response_time_ms?: number; http_status?: number };
  clear(
    out,
    h(
      'section',
      { class: 'card', 'data-testid': 'test-result' },
      h('h2', null, `Exporter test: ${id}`),
      b.status === 'success'
        ? h('p', { class: 'ok-text' }, `✔ ${b.message} in ${b.response_time_ms} ms${b.http_status ? ` (HTTP ${b.http_status})` : ''}`)
        : h('p', { class: 'form-error' }, `✘ ${b.message ?? b.detail}${b.error ? `: ${b.error}` : ''}`),
    ),
  );
}

async function renderForm(root: HTMLElement, kind: Kind, id: string): Promise<void> {
  const admin = session.can('admin');
  const isNew = id === 'new';
  if (isNew && !admin) {
    clear(root, h('p', { class: 'card form-error', 'data-testid': 'read-only' }, 'Only admins can change the config.'));
    return;
  }
  let current: Resource | null = null;
  const refs: Record<string, Resource[]> = {};
  try {
    if (!isNew) current = await api<Resource>('GET', `/config/${kind.kind}/${encodeURIComponent(id)}`);
    for (const f of kind.fields) if (f.type === 'ref' && !refs[f.ref!]) refs[f.ref!] = await listAll(f.ref!);
  } catch (e) {
    clear(root, h('p', { class: 'card form-error' }, (e as Error).message));
    return;
  }
  // The edges for an Edge select; when they cannot be listed the item's own edge stays choosable.
  let edges: Array<{ id: string; name: string }> = [];
  let edgesErr: string | null = null;
  if (kind.fields.some((f) => f.type === 'edge')) {
    try {
      edges = (await listEdges()).map((e) => ({ id: e.id, name: e.name }));
    } catch (e) {
      edgesErr = `Edges could not be listed: ${(e as Error).message}`;
    }
  }
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>();
  const fieldErr = new Map<string, HTMLElement>();
  const rows = kind.fields.map((f) => {
    const v = current ? get(current, f.key) : undefined;
    const fid = `fld-${f.key.replace(/\./g, '-')}`;
    let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
    switch (f.type) {
      case 'bool':
        input = h('input', { id: fid, type: 'checkbox', checked: v === undefined ? true : !!v });
        break;
      case 'number':
        input = h('input', { id: fid, type: 'number', value: v === undefined || v === null ? '' : String(v), placeholder: f.placeholder });
        break;
      case 'select':
        input = h('select', { id: fid }, f.options!.map((o) => h('option', { value: o, selected: v === o || (o === '' && (v === null || v === undefined)) }, o || (f.nullLabel ?? '— default —'))));
        break;
      case 'ref':
        input = h(
          'select',
          { id: fid },
          f.nullable || !current ? h('option', { value: '' }, f.nullable ? '— none —' : 'Choose…') : null,
          refs[f.ref!]!.map((r) => h('option', { value: r.id, selected: v === r.id }, `${String(r.name ?? r.id)} (${r.id})`)),
        );
        break;
      case 'json': {
        input = h('textarea', { id: fid, rows: 3, spellcheck: 'false', class: 'mono', placeholder: f.placeholder });
        const shown = f.exclude && v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => !f.exclude!.includes(k))) : v;
        input.value = shown === undefined || shown === null ? '' : JSON.stringify(shown, null, 2);
        (input as HTMLTextAreaElement).rows = Math.min(12, Math.max(2, input.value.split('\n').length));
        break;
      }
      case 'list':
        input = h('input', { id: fid, value: Array.isArray(v) ? v.join(', ') : '' });
        break;
      case 'edge': {
        // A new camera goes to the only edge when there is one (what the API does when edge_id is omitted).
        const chosen = current ? ((v as string | null | undefined) ?? '') : kind.kind === 'cameras' && edges.length === 1 ? edges[0]!.id : '';
        const opts = chosen && !edges.some((e) => e.id === chosen) ? [...edges, { id: chosen, name: chosen }] : edges;
        input = h(
          'select',
          { id: fid },
          h('option', { value: '', selected: chosen === '' }, f.nullLabel ?? '— none —'),
          opts.map((e) => h('option', { value: e.id, selected: e.id === chosen }, e.name && e.name !== e.id ? `${e.name} (${e.id})` : e.id)),
        );
        break;
      }
      case 'options': {
        const list = Array.isArray(v) ? (v as Array<{ option: string; value: string }>) : [];
        input = h('textarea', { id: fid, rows: Math.max(2, list.length + 1), spellcheck: 'false', class: 'mono', placeholder: f.placeholder });
        input.value = list.map((o) => `${o.option} ${o.value}`).join('\n');
        break;
      }
      default: {
        let text = v === undefined || v === null ? '' : String(v);
        // Only admins see the credentials in a camera URL.
        if (!admin && f.key === 'rtsp_url') text = text.replace(/\/\/[^@/]+@/, '//***@');
        input = h('input', { id: fid, value: text, placeholder: f.placeholder, autocomplete: 'off', spellcheck: 'false' });
      }
    }
    if (!admin) input.disabled = true;
    inputs.set(f.key, input);
    const err = h('span', { class: 'field-error' });
    fieldErr.set(f.key, err);
    const help = f.type === 'edge' && edgesErr ? edgesErr : f.help;
    return h('div', { class: `field ${f.type === 'json' || f.type === 'options' ? 'field-wide' : ''} ${f.type === 'bool' ? 'field-check' : ''}`, 'data-key': f.key }, h('label', { for: fid }, f.label, f.required ? ' *' : ''), input, help ? h('small', { class: 'help' }, help) : null, err);
  });

  // Zones: the polygon or gate line, drawn on a snapshot of the chosen camera.
  let editor: ReturnType<typeof zoneEditor> | null = null;
  const editorBox = h('div', { class: 'field field-wide', 'data-key': 'geometry' });
  if (kind.kind === 'zones') {
    const camSel = inputs.get('camera_id') as HTMLSelectElement;
    const cams = refs.cameras!;
    const initial: Geometry = { type: get(current ?? {}, 'geometry.type') === 'line' ? 'line' : 'polygon', points: (get(current ?? {}, 'geometry.points') as Array<{ x: number; y: number }> | undefined) ?? [] };
    const mount = () => {
      const cam = cams.find((c) => c.id === camSel.value);
      editor?.destroy();
      editor = cam ? zoneEditor(cam, editor ? editor.geometry() : initial, !admin) : null;
      clear(editorBox, h('label', null, 'Area or gate line (click on the picture to add points, drag to move them)'), editor ? editor.el : h('p', { class: 'muted' }, 'Choose a camera to draw the zone on its picture.'), h('span', { class: 'field-error' }));
      fieldErr.set('geometry', editorBox.querySelector('.field-error') as HTMLElement);
    };
    camSel.addEventListener('change', mount);
    mount();
  }

  const generalErr = h('p', { class: 'form-error', role: 'alert' });
  const collect = (): Record<string, unknown> | null => {
    const out: Record<string, unknown> = {};
    let ok = true;
    for (const f of kind.fields) {
      const input = inputs.get(f.key)!;
      const raw = input instanceof HTMLInputElement && input.type === 'checkbox' ? input.checked : input.value.trim();
      let v: unknown;
      if (f.type === 'bool') v = raw;
      else if (raw === '') v = f.nullable ? null : undefined;
      else if (f.type === 'number') v = Number(raw);
      else if (f.type === 'list') v = String(raw).split(',').map((x) => x.trim()).filter(Boolean);
      else if (f.type === 'options') {
        // "-option value" per line; the API checks the option against its allowlist.
        v = String(raw)
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .map((l) => {
            const m = /^(\S+)\s+(.+)$/.exec(l);
            return m ? { option: m[1], value: m[2]!.trim() } : { option: l, value: '' };
          });
      }
      else if (f.type === 'json') {
        try {
          v = JSON.parse(String(raw));
        } catch {
          fieldErr.get(f.key)!.textContent = 'Not valid JSON';
          ok = false;
          continue;
        }
      } else v = raw;
      if (v === undefined) continue;
      // A JSON object with excluded keys merges with what their own fields set.
      const prev = get(out, f.key);
      if (f.exclude && prev && typeof prev === 'object' && v && typeof v === 'object') set(out, f.key, { ...(v as object), ...(prev as object) });
      else set(out, f.key, v);
    }
    if (editor) out.geometry = editor.geometry();
    // Capture settings all left empty: not set (the edge's own). PUT merges, so a camera that had
    // some gets an explicit null; a new one leaves the key out.
    const cap = get(out, 'metadata.capture');
    if (cap && typeof cap === 'object' && Object.values(cap).every((x) => x === null)) {
      if (current && get(current, 'metadata.capture')) (out.metadata as Record<string, unknown>).capture = null;
      else delete (out.metadata as Record<string, unknown>).capture;
    }
    return ok ? out : null;
  };

  const saveBtn = h('button', { class: 'btn btn-primary', type: 'submit', 'data-testid': 'save' }, isNew ? `Create ${kind.noun}` : 'Save');
  const form = h(
    'form',
    {
      class: 'card config-form',
      novalidate: true,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        if (!admin) return;
        generalErr.textContent = '';
        for (const el of fieldErr.values()) el.textContent = '';
        const body = collect();
        if (!body) return;
        saveBtn.disabled = true;
        try {
          const saved = isNew ? await api<Resource>('POST', `/config/${kind.kind}`, { json: body }) : await api<Resource>('PUT', `/config/${kind.kind}/${encodeURIComponent(id)}`, { json: body });
          toast(`${isNew ? 'Created' : 'Saved'} ${saved.id}`);
          location.hash = `#/config/${kind.kind}`;
        } catch (x) {
          if (x instanceof ApiError && x.fields.length) {
            const rest: string[] = [];
            for (const fe of x.fields) {
              // The most specific field the error names (metadata.recognition.regions before metadata).
              const key = [...fieldErr.keys()].filter((k) => fe.field === k || fe.field.startsWith(`${k}.`)).sort((a, b) => b.length - a.length)[0];
              if (key) fieldErr.get(key)!.textContent = fe.message;
              else rest.push(fe.message);
            }
            generalErr.textContent = rest.length ? rest.join('; ') : 'Please fix the fields marked in red.';
          } else generalErr.textContent = (x as Error).message;
        } finally {
          saveBtn.disabled = false;
        }
      },
    },
    h('div', { class: 'card-head' }, h('h2', null, isNew ? `New ${kind.noun}` : `${admin ? 'Edit' : 'View'} ${kind.noun} ${id}`), current ? h('span', { class: 'muted' }, `updated ${fmtTime(current.updated_at)}`) : null),
    h('div', { class: 'form-grid' }, rows, kind.kind === 'zones' ? editorBox : null),
    generalErr,
    h('div', { class: 'form-actions' }, admin ? saveBtn : null, h('a', { class: 'btn', href: `#/config/${kind.kind}` }, admin ? 'Cancel' : 'Back')),
  );
  const extra = h('div', null);
  clear(root, form, extra);
  if (kind.kind === 'cameras' && !isNew && admin) {
    form.querySelector('.form-actions')!.appendChild(h('button', { class: 'btn', type: 'button', onclick: () => testCamera(id, extra) }, 'Test connection'));
  }
  if (kind.kind === 'exporters' && !isNew && admin) {
    form.querySelector('.form-actions')!.appendChild(h('button', { class: 'btn', type: 'button', onclick: () => testExporter(id, extra) }, 'Test'));
  }
}
