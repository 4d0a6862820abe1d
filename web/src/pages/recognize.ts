/** Recognize: upload a still image, see the plates the edge's pipeline finds in it. */
import { api } from '../api.js';
import { clear, fmtConf, h, s } from '../dom.js';
import type { Box, Candidate } from '../types.js';

interface Result {
  width: number;
  height: number;
  engines: string[];
  plates: Array<{ box: Box; detection_score: number; plate_text: string; confidence: number; format: string | null; raw_candidates: Candidate[] }>;
  timings_ms: Record<string, unknown>;
}

export function renderRecognize(root: HTMLElement): () => void {
  const file = h('input', { id: 'rec-file', type: 'file', accept: 'image/jpeg,image/png' });
  const out = h('div', null);
  let url: string | null = null;
  const run = async () => {
    const f = file.files?.[0];
    if (!f) return;
    if (url) URL.revokeObjectURL(url);
    url = URL.createObjectURL(f);
    clear(out, h('p', { class: 'muted' }, 'Recognising… (the first run loads the models and takes a few seconds)'));
    const fd = new FormData();
    fd.set('image', f);
    let r: Result;
    try {
      r = await api<Result>('POST', '/recognize', { body: fd });
    } catch (e) {
      clear(out, h('p', { class: 'form-error' }, (e as Error).message));
      return;
    }
    const stroke = Math.max(2, r.width / 300);
    clear(
      out,
      h(
        'div',
        { class: 'detail-grid' },
        h(
          'section',
          { class: 'card detail-frame' },
          s('svg', { viewBox: `0 0 ${r.width} ${r.height}`, class: 'frame-svg' }, s('image', { href: url, width: r.width, height: r.height }), r.plates.map((p) => s('rect', { class: 'box-plate', x: p.box.x, y: p.box.y, width: p.box.width, height: p.box.height, 'stroke-width': stroke }))),
        ),
        h(
          'section',
          { class: 'card detail-side' },
          h('h2', null, r.plates.length ? `${r.plates.length} plate${r.plates.length > 1 ? 's' : ''}` : 'No plate found'),
          r.plates.map((p) =>
            h(
              'div',
              { class: 'rec-plate' },
              h('div', { class: 'plate' }, p.plate_text || '?'),
              h('p', { class: 'muted' }, `confidence ${fmtConf(p.confidence)} · detection ${fmtConf(p.detection_score)}${p.format ? ` · ${p.format}` : ''}`),
              h('table', { class: 'table' }, h('tbody', null, p.raw_candidates.map((c) => h('tr', null, h('td', null, c.model), h('td', null, h('code', null, c.text)), h('td', null, fmtConf(c.confidence)))))),
            ),
          ),
          h('p', { class: 'help' }, `Engines: ${r.engines.join(', ') || '—'}`),
        ),
      ),
    );
  };
  file.addEventListener('change', () => void run());
  clear(root, h('section', { class: 'page-head' }, h('h1', null, 'Recognize')), h('section', { class: 'card' }, h('label', { for: 'rec-file' }, 'A still image (JPEG or PNG, up to 10 MB)'), file), out);
  return () => {
    if (url) URL.revokeObjectURL(url);
  };
}
