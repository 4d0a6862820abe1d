/**
 * Zone editor on a camera snapshot: a polygon (plates whose centre lies inside belong to the
 * zone) or a gate line (two points across the lane; it gives the direction only). The SVG's
 * coordinate system is the camera's analysis resolution (the snapshot is scaled to it by the
 * server), so the points saved are frame pixels as the edge sees them, whatever size the
 * picture is shown at.
 */
import { ApiError, imageUrl } from '../api.js';
import { h, s } from '../dom.js';
import type { Resource } from '../types.js';

export interface Pt {
  x: number;
  y: number;
}

export type Shape = 'polygon' | 'line';
export interface Geometry {
  type: Shape;
  points: Pt[];
}

/** Most points of each shape (the API's limits). */
const MAX_POINTS: Record<Shape, number> = { polygon: 64, line: 2 };

export function zoneEditor(cam: Resource, initial: Geometry, readOnly: boolean): { el: HTMLElement; geometry(): Geometry; destroy(): void } {
  const res = (cam.resolution as { width: number; height: number } | undefined) ?? { width: 1920, height: 1080 };
  const W = res.width;
  const H = res.height;
  let shape: Shape = initial.type === 'line' ? 'line' : 'polygon';
  let pts: Pt[] = initial.points.map((p) => ({ x: p.x, y: p.y }));
  let destroyed = false;
  const r = Math.max(4, Math.round(W / 110));

  const bg = s('rect', { x: 0, y: 0, width: W, height: H, class: 'editor-bg' });
  const img = s('image', { x: 0, y: 0, width: W, height: H, preserveAspectRatio: 'none' });
  const stroke = Math.max(2, W / 400);
  // A polygon is closed; a gate line is an open polyline (with a marker on its first point).
  const poly = s('polygon', { class: 'zone-poly', 'stroke-width': stroke });
  const line = s('polyline', { class: 'zone-line', 'stroke-width': stroke * 2, fill: 'none' });
  const handles = s('g', { class: 'handles' });
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: `zone-svg${readOnly ? ' readonly' : ''}`, 'data-testid': 'zone-svg', 'data-width': W, 'data-height': H, role: 'img', 'aria-label': `Zone on camera ${cam.id}` }, bg, img, poly, line, handles);
  const status = h('span', { class: 'muted', 'data-testid': 'zone-status' }, 'Loading the camera picture…');
  const count = h('span', { class: 'muted', 'data-testid': 'zone-count' });

  const toFrame = (e: MouseEvent): Pt => {
    const m = svg.getScreenCTM();
    if (!m) return { x: 0, y: 0 };
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    return { x: Math.round(Math.min(W, Math.max(0, p.x))), y: Math.round(Math.min(H, Math.max(0, p.y))) };
  };

  const outline = () => {
    const text = pts.map((p) => `${p.x},${p.y}`).join(' ');
    poly.setAttribute('points', shape === 'polygon' ? text : '');
    line.setAttribute('points', shape === 'line' ? text : '');
  };
  const draw = () => {
    outline();
    handles.replaceChildren(
      ...pts.map((p, i) => {
        const c = s('circle', { cx: p.x, cy: p.y, r, class: `handle${shape === 'line' && i === 0 ? ' handle-first' : ''}`, 'data-index': i });
        if (!readOnly) {
          c.addEventListener('pointerdown', (e) => {
            e.stopPropagation();
            e.preventDefault();
            c.setPointerCapture(e.pointerId);
            const move = (ev: PointerEvent) => {
              pts[i] = toFrame(ev);
              c.setAttribute('cx', String(pts[i]!.x));
              c.setAttribute('cy', String(pts[i]!.y));
              outline();
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
    const n = `${pts.length} point${pts.length === 1 ? '' : 's'}`;
    count.textContent =
      shape === 'line'
        ? `${n}${pts.length < 2 ? ' — a gate line needs 2: click where the lane starts, then where it ends' : ' (first point marked)'}`
        : `${n}${pts.length > 0 && pts.length < 3 ? ' — a zone needs at least 3' : ''}`;
  };

  if (!readOnly) {
    svg.addEventListener('click', (e) => {
      if ((e.target as Element).classList.contains('handle')) return;
      if (pts.length >= MAX_POINTS[shape]) return;
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
        h(
          'select',
          {
            'data-testid': 'zone-shape',
            'aria-label': 'Shape',
            onchange: (e: Event) => {
              shape = (e.target as HTMLSelectElement).value as Shape;
              pts = pts.slice(0, MAX_POINTS[shape]);
              draw();
            },
          },
          h('option', { value: 'polygon', selected: shape === 'polygon' }, 'Area (polygon)'),
          h('option', { value: 'line', selected: shape === 'line' }, 'Gate line (direction only)'),
        ),
        h('button', { class: 'btn btn-small', type: 'button', onclick: () => { pts.pop(); draw(); } }, 'Undo point'),
        h('button', { class: 'btn btn-small', type: 'button', onclick: () => { pts = []; draw(); } }, 'Clear'),
      );
  const el = h('div', { class: 'zone-editor' }, h('div', { class: 'editor-frame' }, svg), h('div', { class: 'editor-foot' }, status, count, tools));
  return {
    el,
    geometry: () => ({ type: shape, points: pts.map((p) => ({ ...p })) }),
    destroy: () => {
      destroyed = true;
    },
  };
}
