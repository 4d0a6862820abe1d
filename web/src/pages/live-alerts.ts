/**
 * Watch-list alert banners on the live page.
 *
 * - An event that arrives on the stream with `decision.alert` true gets a banner: the plate, the
 *   list (and the entry's label), the camera and the time, with a link to the event.
 * - A banner stays until someone dismisses it: never on a timer, and not when the page changes —
 *   undismissed alerts are kept for this tab and shown again when the live page opens.
 * - Several stack, newest on top; one event is one banner even if it arrives twice.
 * - Each banner is `role="alert"` (announced by screen readers as it appears) and its dismiss
 *   button says which plate it dismisses.
 */
import { clear, fmtTime, h } from '../dom.js';
import type { ApiEvent } from '../types.js';

interface Alert {
  id: string;
  plate: string;
  list: string | null;
  label: string | null;
  camera: string | null;
  at: string;
}

/** Undismissed alerts of this tab, newest first (module state: it outlives the page). */
const pending: Alert[] = [];

/** True when the event is a watch-list alert. */
export function isAlert(ev: ApiEvent): boolean {
  return ev.decision?.alert === true || ev.decision?.action === 'alert';
}

/** The banner stack; `cameraName` turns a camera id into its name. */
export function alertBanners(cameraName: (id: string | null) => string): { el: HTMLElement; add(ev: ApiEvent): void } {
  const list = h('div', { class: 'alert-list' });
  const allBtn = h('button', { class: 'btn btn-small', type: 'button', 'data-testid': 'alert-dismiss-all', onclick: () => dismiss() });
  const el = h('div', { class: 'alert-stack', 'data-testid': 'alerts' }, list, allBtn);
  const one = (a: Alert) =>
    h(
      'div',
      { class: 'alert-banner', role: 'alert', 'data-testid': 'alert-banner', 'data-event-id': a.id },
      h('span', { class: 'alert-icon', 'aria-hidden': 'true' }, '⚠'),
      h(
        'div',
        { class: 'alert-text' },
        h('strong', null, 'Watch-list alert: '),
        h('a', { class: 'plate plate-sm', href: `#/events/${encodeURIComponent(a.id)}`, 'data-testid': 'alert-plate' }, a.plate),
        a.list ? [' on ', h('span', { 'data-testid': 'alert-list' }, a.list)] : null,
        a.label ? [' (', h('span', { 'data-testid': 'alert-label' }, a.label), ')'] : null,
        ' at ',
        h('span', { 'data-testid': 'alert-camera' }, cameraName(a.camera)),
        ', ',
        h('time', { datetime: a.at }, fmtTime(a.at)),
      ),
      h('button', { class: 'btn btn-small', type: 'button', 'aria-label': `Dismiss the alert for ${a.plate}`, 'data-testid': 'alert-dismiss', onclick: () => dismiss(a.id) }, 'Dismiss'),
    );
  const tidy = () => {
    el.hidden = pending.length === 0;
    allBtn.hidden = pending.length < 2;
    allBtn.textContent = `Dismiss all ${pending.length}`;
  };
  // Banners are added and removed one by one, never redrawn: a screen reader announces each
  // role="alert" as it is inserted, and a redraw would announce the old ones again.
  const dismiss = (id?: string) => {
    for (let i = pending.length - 1; i >= 0; i--) {
      if (id !== undefined && pending[i]!.id !== id) continue;
      list.querySelector(`[data-event-id="${CSS.escape(pending[i]!.id)}"]`)?.remove();
      pending.splice(i, 1);
    }
    tidy();
  };
  clear(list, pending.map(one));
  tidy();
  return {
    el,
    add(ev) {
      if (!isAlert(ev) || pending.some((a) => a.id === ev.id)) return;
      const a: Alert = { id: ev.id, plate: ev.plate_text, list: ev.decision?.list?.name ?? null, label: ev.decision?.entry_label ?? null, camera: ev.camera_id, at: ev.timestamp };
      pending.unshift(a);
      list.prepend(one(a));
      tidy();
    },
  };
}
