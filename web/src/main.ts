/** The back-office app: sign-in, then a hash-routed shell (live, search, stats, edges, lists, config). */
import './styles.css';
import { logout, refresh, revokePageImages, session } from './api.js';
import { clear, h } from './dom.js';
import { renderLogin } from './pages/login.js';
import { renderLive } from './pages/live.js';
import { renderSearch } from './pages/search.js';
import { renderEvent } from './pages/event.js';
import { renderStats } from './pages/stats.js';
import { renderConfig } from './pages/config.js';
import { renderRecognize } from './pages/recognize.js';
import { renderEdges } from './pages/edges.js';
import { renderLists } from './pages/lists.js';

export type Cleanup = void | (() => void);
export type Page = (root: HTMLElement, params: string[], query: URLSearchParams) => Cleanup | Promise<Cleanup>;

const ROUTES: Array<[RegExp, Page]> = [
  [/^\/live$/, renderLive],
  [/^\/search$/, renderSearch],
  [/^\/events\/([^/]+)$/, renderEvent],
  [/^\/stats$/, renderStats],
  [/^\/edges(?:\/([^/]+))?$/, renderEdges],
  [/^\/lists(?:\/([^/]+))?$/, renderLists],
  [/^\/config(?:\/([a-z-]+))?(?:\/([^/]+))?$/, renderConfig],
  [/^\/recognize$/, renderRecognize],
];

const NAV: Array<[string, string]> = [
  ['#/live', 'Live'],
  ['#/search', 'Search'],
  ['#/stats', 'Stats'],
  ['#/edges', 'Edges'],
  ['#/lists', 'Lists'],
  ['#/config', 'Config'],
  ['#/recognize', 'Recognize'],
];

const app = document.getElementById('app')!;
let cleanup: Cleanup;
let renderSeq = 0;

export function navigate(hash: string): void {
  if (location.hash === hash) void route();
  else location.hash = hash;
}

function shell(): HTMLElement {
  const user = session.user!;
  const path = location.hash.slice(1).split('?')[0] || '/live';
  const links = NAV.map(([href, label]) =>
    h('a', { href, class: path.startsWith(href.slice(1)) || (href === '#/search' && path.startsWith('/events')) ? 'active' : undefined }, label),
  );
  const main = h('main', { id: 'page' });
  const header = h(
    'header',
    { class: 'topbar' },
    h('a', { class: 'brand', href: '#/live' }, h('span', { class: 'brand-mark' }, 'ANPR'), h('span', { class: 'brand-text' }, 'Back office')),
    h('nav', { class: 'mainnav', 'aria-label': 'Main' }, links),
    h(
      'div',
      { class: 'who' },
      h('span', { class: 'who-name', title: `Signed in as ${user.username}` }, user.username),
      h('span', { class: `role role-${user.role}`, 'data-testid': 'role' }, user.role),
      h('button', { class: 'btn btn-ghost', type: 'button', onclick: async () => { await logout(); void route(); } }, 'Sign out'),
    ),
  );
  clear(app, header, main);
  return main;
}

async function route(): Promise<void> {
  const seq = ++renderSeq;
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  revokePageImages();
  if (!session.user) {
    renderLogin(app, () => {
      if (!location.hash || location.hash === '#/login') location.hash = '#/live';
      else void route();
    });
    return;
  }
  const [path, q] = (location.hash.slice(1) || '/live').split('?') as [string, string | undefined];
  if (path === '/' || path === '' || path === '/login') {
    location.hash = '#/live';
    return;
  }
  const main = shell();
  for (const [re, page] of ROUTES) {
    const m = re.exec(path);
    if (m) {
      const c = await page(main, m.slice(1).map((x) => (x === undefined ? '' : decodeURIComponent(x))), new URLSearchParams(q ?? ''));
      if (seq === renderSeq) cleanup = c;
      else if (typeof c === 'function') c();
      return;
    }
  }
  clear(main, h('section', { class: 'card' }, h('h1', null, 'Not found'), h('p', null, 'No such page. '), h('a', { href: '#/live' }, 'Go to the live view')));
}

window.addEventListener('hashchange', () => void route());
session.onChange((u) => {
  if (!u) void route();
});

clear(app, h('div', { class: 'boot' }, 'Loading…'));
void refresh().then(() => route());
