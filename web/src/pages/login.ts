import { ApiError, login } from '../api.js';
import { clear, h } from '../dom.js';

export function renderLogin(root: HTMLElement, done: () => void): void {
  const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('p', { class: 'form-error', role: 'alert' });
  const btn = h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'login-card',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        err.textContent = '';
        btn.disabled = true;
        try {
          await login(user.value.trim(), pass.value);
          done();
        } catch (x) {
          err.textContent = x instanceof ApiError && x.status === 401 ? 'Wrong username or password.' : (x as Error).message;
          pass.select();
        } finally {
          btn.disabled = false;
        }
      },
    },
    h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark' }, 'ANPR'), h('span', null, 'Back office')),
    h('h1', null, 'Sign in'),
    h('label', { for: 'login-user' }, 'Username'),
    user,
    h('label', { for: 'login-pass' }, 'Password'),
    pass,
    err,
    btn,
  );
  clear(root, h('div', { class: 'login-wrap' }, form));
  user.focus();
}
