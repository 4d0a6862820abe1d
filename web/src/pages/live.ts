/**
 * Live view: events as they arrive on the /events/stream WebSocket, each with the gate's
 * decision; reconnects by itself. Watch-list alerts get a banner that stays until dismissed
 * (live-alerts.ts). The stream is not filtered by camera: the camera choice filters the cards,
 * and an alert from any camera still gets its banner, also while the view is paused.
 */
import { api, imageUrl, refresh, token } from '../api.js';
import { clear, confBadge, fmtTime, h } from '../dom.js';
import type { ApiEvent } from '../types.js';
import { cameraNames } from '../lookups.js';
import { decisionBadge } from '../decision.js';
import { alertBanners, isAlert } from './live-alerts.js';

const MAX_CARDS = 60;

export async function renderLive(root: HTMLElement): Promise<() => void> {
  const status = h('span', { class: 'pill pill-wait', 'data-testid': 'live-status' }, 'Connecting…');
  const counter = h('span', { class: 'muted' }, '');
  const grid = h('div', { class: 'live-grid', 'data-testid': 'live-grid' });
  const empty = h('p', { class: 'empty' }, 'Waiting for events…');
  const pauseBtn = h('button', { class: 'btn', type: 'button' }, 'Pause');
  const camSel = h('select', { 'aria-label': 'Camera' }, h('option', { value: '' }, 'All cameras'));
  const alertsBox = h('div', null);
  clear(
    root,
    h(
      'section',
      { class: 'page-head' },
      h('h1', null, 'Live'),
      h('div', { class: 'head-tools' }, status, counter, camSel, pauseBtn),
    ),
    alertsBox,
    grid,
    empty,
  );

  const names = await cameraNames();
  for (const [id, name] of names) camSel.appendChild(h('option', { value: id }, name));
  const alerts = alertBanners((id) => names.get(id ?? '') ?? id ?? 'no camera');
  alertsBox.replaceWith(alerts.el);

  let ws: WebSocket | null = null;
  let stopped = false;
  let paused = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let received = 0;
  const blobs = new Map<Element, string>();
  const held: ApiEvent[] = [];

  const card = (ev: ApiEvent, fresh: boolean) => {
    const img = h('img', { class: 'crop', alt: `Plate ${ev.plate_text}` });
    const el = h(
      'a',
      { class: `live-card${fresh ? ' fresh' : ''}${isAlert(ev) ? ' live-card-alert' : ''}`, href: `#/events/${encodeURIComponent(ev.id)}`, 'data-event-id': ev.id },
      h('div', { class: 'crop-box' }, ev.crop_url ? img : h('span', { class: 'no-img' }, 'no crop')),
      h(
        'div',
        { class: 'live-info' },
        h('div', { class: 'plate', 'data-testid': 'plate' }, ev.plate_text),
        h('div', { class: 'live-meta' }, confBadge(ev.confidence), h('span', null, names.get(ev.camera_id ?? '') ?? ev.camera_id ?? '—'), ev.zone_id ? h('span', { class: 'tag' }, ev.zone_id) : null),
        decisionBadge(ev.decision),
        h('time', { datetime: ev.timestamp }, fmtTime(ev.timestamp)),
      ),
    );
    if (ev.crop_url) {
      imageUrl(ev.crop_url, true)
        .then((u) => {
          if (!el.isConnected && !grid.contains(el)) return URL.revokeObjectURL(u);
          blobs.set(el, u);
          img.src = u;
        })
        .catch(() => img.replaceWith(h('span', { class: 'no-img' }, 'crop unavailable')));
    }
    return el;
  };

  const show = (ev: ApiEvent, fresh: boolean) => {
    if (camSel.value && ev.camera_id !== camSel.value) return;
    empty.remove();
    grid.prepend(card(ev, fresh));
    while (grid.children.length > MAX_CARDS) {
      const last = grid.lastElementChild!;
      const u = blobs.get(last);
      if (u) URL.revokeObjectURL(u);
      blobs.delete(last);
      last.remove();
    }
  };

  const setStatus = (cls: string, text: string) => {
    status.className = `pill ${cls}`;
    status.textContent = text;
  };

  const connect = async () => {
    if (stopped) return;
    const tok = await token();
    if (!tok || stopped) return;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const q = new URLSearchParams({ token: tok });
    ws = new WebSocket(`${proto}://${location.host}/events/stream?${q}`);
    setStatus('pill-wait', 'Connecting…');
    ws.onopen = () => {
      attempt = 0;
      setStatus('pill-ok', 'Live');
    };
    ws.onmessage = (m) => {
      try {
        const msg = JSON.parse(String(m.data)) as { type: string; data: ApiEvent };
        if (msg.type !== 'event') return;
        alerts.add(msg.data);
        if (camSel.value && msg.data.camera_id !== camSel.value) return;
        received++;
        counter.textContent = `${received} new`;
        if (paused) held.push(msg.data);
        else show(msg.data, true);
      } catch {
        // ignore a malformed message
      }
    };
    ws.onclose = async (e) => {
      ws = null;
      if (stopped) return;
      // 4401: the stream's credentials ended. A refresh gets new ones, or signs out when the
      // sign-in itself is over; reconnecting with the old token would only be refused.
      if (e.code === 4401) await refresh();
      if (stopped) return;
      // Exponential backoff with full jitter, at most 15 s.
      const delay = Math.round(Math.random() * Math.min(15_000, 1000 * 2 ** attempt++)) + 250;
      setStatus('pill-bad', `Reconnecting in ${Math.ceil(delay / 1000)} s`);
      timer = setTimeout(() => void connect(), delay);
    };
  };

  pauseBtn.onclick = () => {
    paused = !paused;
    pauseBtn.textContent = paused ? `Resume` : 'Pause';
    if (!paused) for (const ev of held.splice(0)) show(ev, true);
  };
  camSel.onchange = () => {
    grid.replaceChildren();
    void loadRecent();
  };

  const loadRecent = async () => {
    try {
      const page = await api<{ items: ApiEvent[] }>('GET', '/events', { query: { limit: 12, camera_id: camSel.value || undefined } });
      for (const ev of page.items.reverse()) show(ev, false);
    } catch {
      // the live stream still works
    }
  };
  await loadRecent();
  void connect();

  return () => {
    stopped = true;
    clearTimeout(timer);
    ws?.close();
    for (const u of blobs.values()) URL.revokeObjectURL(u);
  };
}
