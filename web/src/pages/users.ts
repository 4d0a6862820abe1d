/** Users: create, change role, disable/enable, set a new password. Admins only. */
import { ApiError, api, session } from '../api.js';
import { clear, fmtTime, h, toast } from '../dom.js';

interface U {
  username: string;
  role: 'viewer' | 'operator' | 'admin';
  disabled: boolean;
  created_at: string;
}
const ROLES = ['viewer', 'operator', 'admin'] as const;
const msg = (x: unknown) => (x instanceof ApiError && x.fields.length ? x.fields.map((f) => f.message).join('; ') : (x as Error).message);

export async function renderUsers(root: HTMLElement): Promise<void> {
  let users: U[];
  try {
    users = (await api<{ items: U[] }>('GET', '/users')).items;
  } catch (e) {
    clear(root, h('p', { class: 'form-error' }, (e as Error).message));
    return;
  }
  const patch = async (u: U, body: Record<string, unknown>, done: string) => {
    try {
      await api('PATCH', `/users/${encodeURIComponent(u.username)}`, { json: body });
      toast(done);
    } catch (x) {
      toast(msg(x), 'error');
    }
    await renderUsers(root);
  };
  const name = h('input', { id: 'u-name', autocomplete: 'off', required: true, maxlength: 64 });
  const pass = h('input', { id: 'u-pass', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const role = h('select', { id: 'u-role' }, ROLES.map((r) => h('option', { value: r }, r)));
  const err = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'form-grid',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        err.textContent = '';
        try {
          await api('POST', '/users', { json: { username: name.value.trim(), password: pass.value, role: role.value } });
          toast(`Created ${name.value.trim()}`);
          await renderUsers(root);
        } catch (x) {
          err.textContent = msg(x);
        }
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'u-name' }, 'Username'), name),
    h('div', { class: 'field' }, h('label', { for: 'u-pass' }, 'Password (8+ characters)'), pass),
    h('div', { class: 'field' }, h('label', { for: 'u-role' }, 'Role'), role),
    h('div', { class: 'field field-actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, 'Create user')),
    err,
  );
  clear(
    root,
    h('section', { class: 'card' }, h('h2', null, 'New user'), form, h('p', { class: 'help' }, 'viewer: live, search, stats, read config · operator: + correct plates · admin: + config, keys, users')),
    h(
      'section',
      { class: 'card' },
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'table', 'data-testid': 'users-table' },
          h('thead', null, h('tr', null, h('th', null, 'User'), h('th', null, 'Role'), h('th', null, 'Status'), h('th', { class: 'hide-narrow' }, 'Created'), h('th', null, ''))),
          h(
            'tbody',
            null,
            users.map((u) => {
              const sel = h('select', { 'aria-label': `Role of ${u.username}`, onchange: (e: Event) => patch(u, { role: (e.target as HTMLSelectElement).value }, `${u.username} is now ${(e.target as HTMLSelectElement).value}`) }, ROLES.map((r) => h('option', { value: r, selected: r === u.role }, r)));
              return h(
                'tr',
                { 'data-user': u.username, class: u.disabled ? 'revoked' : undefined },
                h('td', null, u.username, u.username === session.user?.username ? h('span', { class: 'muted' }, ' (you)') : null),
                h('td', null, sel),
                h('td', null, u.disabled ? h('span', { class: 'pill pill-bad' }, 'disabled') : h('span', { class: 'pill pill-ok' }, 'active')),
                h('td', { class: 'hide-narrow' }, fmtTime(u.created_at)),
                h(
                  'td',
                  { class: 'actions' },
                  h('button', { class: 'btn btn-small', type: 'button', onclick: () => patch(u, { disabled: !u.disabled }, `${u.username} ${u.disabled ? 'enabled' : 'disabled'}`) }, u.disabled ? 'Enable' : 'Disable'),
                  h(
                    'button',
                    {
                      class: 'btn btn-small',
                      type: 'button',
                      onclick: () => {
                        const p = prompt(`New password for ${u.username} (8+ characters):`);
                        if (p) void patch(u, { password: p }, `Password of ${u.username} changed`);
                      },
                    },
                    'Set password',
                  ),
                ),
              );
            }),
          ),
        ),
      ),
    ),
  );
}
