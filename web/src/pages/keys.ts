/** Edge API keys: create (the key is shown once), list, revoke. Admins only. */
import { ApiError, api } from '../api.js';
import { clear, fmtTime, h, toast } from '../dom.js';

interface Key {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export async function renderKeys(root: HTMLElement, shown?: { name: string; key: string }): Promise<void> {
  let keys: Key[];
  try {
    keys = (await api<{ items: Key[] }>('GET', '/api-keys')).items;
  } catch (e) {
    clear(root, h('p', { class: 'form-error' }, (e as Error).message));
    return;
  }
  const name = h('input', { id: 'key-name', placeholder: 'e.g. gate-edge-1', maxlength: 64, required: true, autocomplete: 'off' });
  const err = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'inline-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        err.textContent = '';
        try {
          const k = await api<Key & { key: string }>('POST', '/api-keys', { json: { name: name.value.trim() } });
          await renderKeys(root, { name: k.name, key: k.key });
        } catch (x) {
          err.textContent = x instanceof ApiError && x.fields.length ? x.fields.map((f) => f.message).join('; ') : (x as Error).message;
        }
      },
    },
    h('label', { for: 'key-name' }, 'New key for an edge'),
    h('div', { class: 'inline' }, name, h('button', { class: 'btn btn-primary', type: 'submit' }, 'Create key')),
    err,
  );
  const revoke = async (k: Key) => {
    if (!confirm(`Revoke key “${k.name}”? The edge using it stops delivering events.`)) return;
    try {
      await api('DELETE', `/api-keys/${encodeURIComponent(k.id)}`);
      toast(`Revoked ${k.name}`);
      await renderKeys(root);
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  };
  const once = shown
    ? h(
        'div',
        { class: 'key-once', role: 'status', 'data-testid': 'new-key' },
        h('p', null, h('strong', null, `Key for ${shown.name}. `), 'Copy it now: it is shown only once, and only its hash is stored.'),
        h('div', { class: 'inline' }, h('code', { class: 'key-value', 'data-testid': 'key-value' }, shown.key), h('button', { class: 'btn btn-small', type: 'button', onclick: () => navigator.clipboard?.writeText(shown.key).then(() => toast('Copied'), () => toast('Copy failed; select the text', 'error')) }, 'Copy')),
      )
    : null;
  clear(
    root,
    h('section', { class: 'card' }, h('h2', null, 'Edge API keys'), once, form),
    h(
      'section',
      { class: 'card' },
      keys.length
        ? h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'table', 'data-testid': 'keys-table' },
              h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Key'), h('th', null, 'Created'), h('th', null, 'Last used'), h('th', null, 'Status'), h('th', null, ''))),
              h(
                'tbody',
                null,
                keys.map((k) =>
                  h(
                    'tr',
                    { 'data-id': k.id, class: k.revoked_at ? 'revoked' : undefined },
                    h('td', null, k.name),
                    h('td', null, h('code', null, `${k.prefix}…`)),
                    h('td', null, fmtTime(k.created_at)),
                    h('td', null, k.last_used_at ? fmtTime(k.last_used_at) : 'never'),
                    h('td', null, k.revoked_at ? h('span', { class: 'pill pill-bad' }, 'revoked') : h('span', { class: 'pill pill-ok' }, 'active')),
                    h('td', { class: 'actions' }, k.revoked_at ? null : h('button', { class: 'btn btn-small btn-danger', type: 'button', onclick: () => revoke(k) }, 'Revoke')),
                  ),
                ),
              ),
            ),
          )
        : h('p', { class: 'empty' }, 'No keys yet.'),
    ),
  );
}
