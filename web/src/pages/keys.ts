/**
 * Edge API keys: create (the key is shown once), list, revoke. Admins only. Every key belongs
 * to one edge (its `edge_id`); creating a key for a new edge id registers that edge.
 */
import { ApiError, api } from '../api.js';
import { clear, fmtTime, h, toast } from '../dom.js';
import type { ApiKey } from '../types.js';

/** Edge ids as the cloud accepts them (shared/schemas/common.ts SAFE_ID). */
export const EDGE_ID_PATTERN = '[A-Za-z0-9][A-Za-z0-9._:\\-]{0,127}';

/** The lines an installer pastes into the edge's config file for this key. */
export function edgeConfigSnippet(edgeId: string, key: string): string {
  return [`edge_id: ${edgeId}`, 'cloud:', `  url: ${location.origin}`, `  api_key: ${key}`].join('\n');
}

/** A just-created key, shown once, with a Copy button and the edge config snippet. */
export function keyOnce(shown: { name: string; edge_id: string; key: string }): HTMLElement {
  const copy = (text: string) => navigator.clipboard?.writeText(text).then(() => toast('Copied'), () => toast('Copy failed; select the text', 'error'));
  const snippet = edgeConfigSnippet(shown.edge_id, shown.key);
  return h(
    'div',
    { class: 'key-once', role: 'status', 'data-testid': 'new-key' },
    h('p', null, h('strong', null, `Key for edge ${shown.edge_id}${shown.name !== shown.edge_id ? ` (${shown.name})` : ''}. `), 'Copy it now: it is shown only once, and only its hash is stored.'),
    h('div', { class: 'inline' }, h('code', { class: 'key-value', 'data-testid': 'key-value' }, shown.key), h('button', { class: 'btn btn-small', type: 'button', onclick: () => copy(shown.key) }, 'Copy')),
    h('p', { class: 'help' }, "The edge's config file (edge.yaml):"),
    h('div', { class: 'inline' }, h('pre', { class: 'json snippet', 'data-testid': 'edge-snippet' }, snippet), h('button', { class: 'btn btn-small', type: 'button', onclick: () => copy(snippet) }, 'Copy')),
  );
}

/** Field errors of a 400 as one line, else the error's message. */
export function errorText(x: unknown): string {
  return x instanceof ApiError && x.fields.length ? x.fields.map((f) => f.message).join('; ') : (x as Error).message;
}

export async function renderKeys(root: HTMLElement, shown?: { name: string; edge_id: string; key: string }): Promise<void> {
  let keys: ApiKey[];
  try {
    keys = (await api<{ items: ApiKey[] }>('GET', '/api-keys')).items;
  } catch (e) {
    clear(root, h('p', { class: 'form-error' }, (e as Error).message));
    return;
  }
  const edgeId = h('input', { id: 'key-edge', placeholder: 'e.g. gate-1', maxlength: 128, required: true, autocomplete: 'off', spellcheck: 'false', pattern: EDGE_ID_PATTERN });
  const name = h('input', { id: 'key-name', placeholder: 'optional, default: the edge id', maxlength: 64, autocomplete: 'off' });
  const err = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'inline-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        err.textContent = '';
        const body: Record<string, string> = { edge_id: edgeId.value.trim() };
        if (name.value.trim()) body.name = name.value.trim();
        try {
          const k = await api<ApiKey & { key: string }>('POST', '/api-keys', { json: body });
          await renderKeys(root, { name: k.name, edge_id: k.edge_id ?? body.edge_id!, key: k.key });
        } catch (x) {
          err.textContent = errorText(x);
        }
      },
    },
    h('div', { class: 'form-grid' }, h('div', { class: 'field' }, h('label', { for: 'key-edge' }, 'Edge id *'), edgeId, h('small', { class: 'help' }, "As in the edge's config `edge_id`; a new id registers the edge")), h('div', { class: 'field' }, h('label', { for: 'key-name' }, 'Key name'), name)),
    h('div', { class: 'form-actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, 'Create key')),
    err,
  );
  const revoke = async (k: ApiKey) => {
    if (!confirm(`Revoke key “${k.name}”? The edge using it stops delivering events.`)) return;
    try {
      await api('DELETE', `/api-keys/${encodeURIComponent(k.id)}`);
      toast(`Revoked ${k.name}`);
      await renderKeys(root);
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  };
  clear(
    root,
    h('section', { class: 'card' }, h('h2', null, 'Edge API keys'), shown ? keyOnce(shown) : null, form),
    h('section', { class: 'card' }, keysTable(keys, revoke, true)),
  );
}

/** The keys as a table; `withEdge` adds the edge column (the edge's own page leaves it out). */
export function keysTable(keys: ApiKey[], revoke: ((k: ApiKey) => void) | null, withEdge: boolean): HTMLElement {
  if (!keys.length) return h('p', { class: 'empty' }, 'No keys yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table', 'data-testid': 'keys-table' },
      h('thead', null, h('tr', null, withEdge ? h('th', null, 'Edge') : null, h('th', null, 'Name'), h('th', null, 'Key'), h('th', null, 'Created'), h('th', null, 'Last used'), h('th', null, 'Status'), h('th', null, ''))),
      h(
        'tbody',
        null,
        keys.map((k) =>
          h(
            'tr',
            { 'data-id': k.id, class: k.revoked_at ? 'revoked' : undefined },
            withEdge ? h('td', null, k.edge_id ? h('a', { href: `#/edges/${encodeURIComponent(k.edge_id)}` }, k.edge_id) : '—') : null,
            h('td', null, k.name),
            h('td', null, h('code', null, `${k.prefix}…`)),
            h('td', null, fmtTime(k.created_at)),
            h('td', null, k.last_used_at ? fmtTime(k.last_used_at) : 'never'),
            h('td', null, k.revoked_at ? h('span', { class: 'pill pill-bad' }, 'revoked') : h('span', { class: 'pill pill-ok' }, 'active')),
            h('td', { class: 'actions' }, k.revoked_at || !revoke ? null : h('button', { class: 'btn btn-small btn-danger', type: 'button', onclick: () => revoke(k) }, 'Revoke')),
          ),
        ),
      ),
    ),
  );
}
