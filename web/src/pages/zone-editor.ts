/**
 * Zone polygon editor on a camera snapshot. The SVG's coordinate system is the camera's
 * analysis resolution (the snapshot is scaled to it by the server), so the points saved
 * are frame pixels as the edge sees them, whatever size the picture is shown at.
 */
import { ApiError, imageUrl } from '../api.js';
import { h, s } from '../dom.js';
import type { Resource } from '../types.js';

export interface Pt {
  x: number;
  y: number;
}

export function polygonEditor(cam: Resource, initial: Pt[], readOnly: boolean): { el: HTMLElement; points(): Pt[]; destroy(): void } {
  const res = (cam.resolution as { width: number; height: number } | undefined) ?? { width: 1920, height: 1080 };
  const W = res.width;
  const H = res.height;
  let pts: Pt[] = initial.map((p) => ({ x: p.x, y: p.y }));
  let destroyed = false;
  const r = Math.max(4, Math.round(W / 110));

  const bg = s('rect', { x: 0, y: 0, width: W, height: H, class: 'editor-bg' });
  const img = s('image', { x: 0, y: 0, width: W, height: H, preserveAspectRatio: 'none' });
  const poly = s('polygon', { class: 'zone-poly', 'stroke-width': Math.max(2, W / 400) });
  const handles = s('g', { class: 'handles' });
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: `zone-svg${readOnly ? ' readonly' : ''}`, 'data-testid': 'zone-svg', 'data-width': W, 'data-height': H, role: 'img', 'aria-label': `Zone on camera ${cam.id}` }, bg, img, poly, handles);
  const status = h('span', { class: 'muted', 'data-testid': 'zone-status' }, 'Loading the camera picture…');
  const count = h('span', { class: 'muted', 'data-testid': 'zone-count' });

  const toFrame = (e: MouseEvent): Pt => {
    const m = svg.getScreenCTM();
    if (!m) return { x: 0, y: 0 };
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    return { x: Math.round(Math.min(W, Math.max(0, p.x))), y: Math.round(Math.min(H, Math.max(0, p.y))) };
  };

  const draw = () => {
    poly.setAttribute('points', pts.map((p) => `${p.x},${p.y}`).join(' '));
    handles.replaceChildren(
      ...pts.map((p, i) => {
        const c = s('circle', { cx: p.x, cy: p.y, r, class: 'handle', 'data-index': i });
        if (!readOnly) {
          c.addEventListener('pointerdown', (e) => {
            e.stopPropagation();
            e.preventDefault();
            c.setPointerCapture(e.pointerId);
            const move = (ev: PointerEvent) => {
              pts[i] = toFrame(ev);
              c.setAttribute('cx', String(pts[i]!.x));
              c.setAttribute('cy', String(pts[i]!.y));
              poly.setAttribute('points', pts.map((q) => `${q.x},${q.y}`).join(' '));
            };
            const up = () => {
              c.removeEventListener('pointermove', move);
              c.removeEventListener('pointerup', up);
              draw();
            };
            c.addEventListener('pointermove', move);
            c.addEventListener('pointerup', up);
          });
        }
        return c;
      }),
    );
    count.textContent = `${pts.length} point${pts.length === 1 ? '' : 's'}${pts.length > 0 && pts.length < 3 ? ' — a zone needs at least 3' : ''}`;
  };

  if (!readOnly) {
    svg.addEventListener('click', (e) => {
      if ((e.target as Element).classList.contains('handle')) return;
      if (pts.length >= 64) return;
      pts.push(toFrame(e));
      draw();
    });
  }

  imageUrl(`/config/cameras/${encodeURIComponent(cam.id)}/snapshot`)
    .then((u) => {
      if (destroyed) return URL.revokeObjectURL(u);
      img.setAttribute('href', u);
      status.textContent = `Snapshot of ${String(cam.name ?? cam.id)}, ${W} × ${H}`;
      status.setAttribute('data-loaded', 'true');
    })
    .catch((e) => {
      status.textContent = `No picture from the camera (${e instanceof ApiError ? e.message : 'error'}); you can still draw on the grid.`;
      status.setAttribute('data-loaded', 'false');
    });

  draw();
  const tools = readOnly
    ? null
    : h(
        'div',
        { class: 'editor-tools' },
        h('button', { class: 'btn btn-small', type: 'button', onclick: () => { pts.pop(); draw(); } }, 'Undo point'),
        h('button', { class: 'btn btn-small', type: 'button', onclick: () => { pts = []; draw(); } }, 'Clear'),
      );
  const el = h('div', { class: 'zone-editor' }, h('div', { class: 'editor-frame' }, svg), h('div', { class: 'editor-foot' }, status, count, tools));
  return {
    el,
    points: () => pts.map((p) => ({ ...p })),
    destroy: () => {
      destroyed = true;
    },
  };
}
