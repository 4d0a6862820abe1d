/** One event: frame with the plate box drawn, crop, the gate's decision, every engine's read, consensus, correction. */
import { ApiError, api, imageUrl, session } from '../api.js';
import { clear, confBadge, fmtConf, fmtTime, h, s, toast } from '../dom.js';
import type { ApiEvent, Box, Candidate, Correction } from '../types.js';
import { cameraNames } from '../lookups.js';
import { decisionFacts } from '../decision.js';

function isBox(b: unknown): b is Box {
  return !!b && typeof b === 'object' && ['x', 'y', 'width', 'height'].every((k) => typeof (b as Record<string, unknown>)[k] === 'number');
}

/** Per-text totals of the engines' reads: the consensus as a vote. */
function textVotes(cands: Candidate[]): Array<{ text: string; weight: number; engines: string[] }> {
  const m = new Map<string, { text: string; weight: number; engines: string[] }>();
  for (const c of cands) {
    const e = m.get(c.text) ?? { text: c.text, weight: 0, engines: [] };
    e.weight += c.confidence;
    e.engines.push(c.model);
    m.set(c.text, e);
  }
  return [...m.values()].sort((a, b) => b.weight - a.weight);
}

function positionGrid(cands: Candidate[], consensus: string): HTMLElement {
  const n = Math.max(consensus.length, ...cands.map((c) => c.text.length));
  const head = h('tr', null, h('th', null, 'Engine'), Array.from({ length: n }, (_, i) => h('th', { class: 'pos' }, String(i + 1))));
  const row = (label: string, text: string, cls = '') =>
    h(
      'tr',
      { class: cls },
      h('th', { scope: 'row' }, label),
      Array.from({ length: n }, (_, i) => {
        const ch = text[i] ?? '';
        return h('td', { class: `pos ${ch && ch === consensus[i] ? 'agree' : ch ? 'disagree' : ''}` }, ch || '·');
      }),
    );
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', { class: 'votes-grid' }, h('thead', null, head), h('tbody', null, cands.map((c) => row(c.model, c.text)), row('Consensus', consensus, 'consensus-row'))),
  );
}

export async function renderEvent(root: HTMLElement, [id]: string[]): Promise<void> {
  clear(root, h('p', { class: 'muted' }, 'Loading…'));
  let ev: ApiEvent;
  let correction: Correction | null = null;
  try {
    ev = await api<ApiEvent>('GET', `/events/${encodeURIComponent(id!)}`);
    correction = ev.correction !== undefined ? ev.correction : (await api<{ correction: Correction | null }>('GET', `/events/${encodeURIComponent(id!)}/correction`)).correction;
  } catch (e) {
    clear(root, h('section', { class: 'card' }, h('h1', null, 'Event'), h('p', { class: 'form-error' }, (e as Error).message), h('a', { href: '#/search' }, '‹ Back to search')));
    return;
  }
  const cams = await cameraNames();
  const meta = ev.metadata ?? {};
  const plateBox = isBox(meta.plate_box) ? meta.plate_box : null;
  const vehBox = isBox(ev.vehicle_info?.bbox) ? ev.vehicle_info!.bbox! : null;

  // Frame with boxes: the SVG takes the image's own pixel size as its coordinate system.
  const frameBox = h('div', { class: 'frame-box' }, ev.frame_url ? h('p', { class: 'muted' }, 'Loading frame…') : h('p', { class: 'no-img' }, 'No frame stored'));
  if (ev.frame_url) {
    imageUrl(ev.frame_url)
      .then((u) => {
        const img = new Image();
        img.onload = () => {
          const W = img.naturalWidth;
          const H = img.naturalHeight;
          const stroke = Math.max(2, Math.round(W / 300));
          const svg = s(
            'svg',
            { viewBox: `0 0 ${W} ${H}`, class: 'frame-svg', role: 'img', 'aria-label': 'Frame with the plate box' },
            s('image', { href: u, x: 0, y: 0, width: W, height: H }),
            vehBox ? s('rect', { class: 'box-vehicle', x: vehBox.x, y: vehBox.y, width: vehBox.width, height: vehBox.height, 'stroke-width': stroke }) : null,
            plateBox ? s('rect', { class: 'box-plate', 'data-testid': 'plate-box', x: plateBox.x, y: plateBox.y, width: plateBox.width, height: plateBox.height, 'stroke-width': stroke }) : null,
          );
          clear(frameBox, svg);
        };
        img.src = u;
      })
      .catch(() => clear(frameBox, h('p', { class: 'no-img' }, 'Frame unavailable')));
  }
  const cropBox = h('div', { class: 'crop-large' }, ev.crop_url ? null : h('span', { class: 'no-img' }, 'No crop'));
  if (ev.crop_url) imageUrl(ev.crop_url).then((u) => cropBox.appendChild(h('img', { src: u, alt: `Plate ${ev.plate_text}` }))).catch(() => undefined);

  const original = correction?.original_plate_text ?? ev.plate_text;
  const votes = textVotes(ev.raw_candidates);
  const total = votes.reduce((n, v) => n + v.weight, 0) || 1;

  const correctionSection = () => {
    const parts: HTMLElement[] = [];
    if (correction) {
      parts.push(
        h(
          'div',
          { class: 'audit', 'data-testid': 'audit' },
          h('p', null, 'Corrected by ', h('strong', null, correction.corrected_by), ' on ', fmtTime(correction.corrected_at), '. Original read: ', h('span', { class: 'plate plate-sm', 'data-testid': 'original-plate' }, correction.original_plate_text)),
          h(
            'ol',
            { class: 'history' },
            correction.history.map((x) => h('li', null, h('code', null, x.from), ' → ', h('code', null, x.to), ` by ${x.by}, ${fmtTime(x.at)}`, x.reason ? ` — “${x.reason}”` : '')),
          ),
        ),
      );
    }
    if (session.can('operator')) {
      const input = h('input', { id: 'fix-plate', value: ev.plate_text, maxlength: 32, autocomplete: 'off', required: true, class: 'plate-input' });
      const reason = h('input', { id: 'fix-reason', maxlength: 500, placeholder: 'Why (optional)' });
      const err = h('p', { class: 'form-error', role: 'alert' });
      const btn = h('button', { class: 'btn btn-primary', type: 'submit' }, 'Save correction');
      parts.push(
        h(
          'form',
          {
            class: 'fix-form',
            onsubmit: async (e: Event) => {
              e.preventDefault();
              err.textContent = '';
              btn.disabled = true;
              try {
                await api('PATCH', `/events/${encodeURIComponent(ev.id)}`, { json: { plate_text: input.value.trim(), ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) } });
                toast('Correction saved');
                await renderEvent(root, [id!]);
              } catch (x) {
                err.textContent = x instanceof ApiError && x.fields.length ? x.fields.map((f) => f.message).join('; ') : (x as Error).message;
                btn.disabled = false;
              }
            },
          },
          h('label', { for: 'fix-plate' }, 'Correct plate text'),
          h('div', { class: 'inline' }, input, reason, btn),
          err,
        ),
      );
    } else if (!correction) {
      parts.push(h('p', { class: 'muted' }, 'Not corrected. Operators can correct misread plates.'));
    }
    return parts;
  };

  clear(
    root,
    h(
      'section',
      { class: 'page-head' },
      h(
        'div',
        null,
        // Back to the search as it was (its filters live in the URL), else to a fresh one.
        h('a', { href: '#/search', class: 'back', onclick: (e: Event) => {
            if (history.length > 1) {
              e.preventDefault();
              history.back();
            }
          },
        }, '‹ Back'),
        h('h1', null, 'Event ', h('span', { class: 'plate', 'data-testid': 'event-plate' }, ev.plate_text)),
      ),
      h('div', { class: 'head-tools' }, confBadge(ev.confidence)),
    ),
    h(
      'div',
      { class: 'detail-grid' },
      h('section', { class: 'card detail-frame' }, h('h2', null, 'Frame'), frameBox, h('p', { class: 'legend' }, h('span', { class: 'sw sw-plate' }), 'plate', vehBox ? [h('span', { class: 'sw sw-vehicle' }), 'vehicle'] : null)),
      h(
        'section',
        { class: 'card detail-side' },
        h('h2', null, 'Plate'),
        cropBox,
        h(
          'dl',
          { class: 'facts' },
          h('dt', null, 'Time'),
          h('dd', null, fmtTime(ev.timestamp)),
          h('dt', null, 'Camera'),
          h('dd', null, cams.get(ev.camera_id ?? '') ?? ev.camera_id ?? '—'),
          h('dt', null, 'Zone'),
          h('dd', null, ev.zone_id ?? '—'),
          h('dt', null, 'Vehicle'),
          h('dd', null, [ev.vehicle_info?.color, ev.vehicle_info?.type].filter(Boolean).join(' ') || '—'),
          h('dt', null, 'Event id'),
          h('dd', null, h('code', null, ev.id)),
        ),
        h('h2', null, 'Decision'),
        decisionFacts(ev.decision),
        h('h2', null, 'Correction'),
        correctionSection(),
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, 'Engines and consensus'),
      ev.raw_candidates.length
        ? [
            h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'table', 'data-testid': 'candidates' },
                h('thead', null, h('tr', null, h('th', null, 'Engine'), h('th', null, 'Read'), h('th', null, 'Confidence'), h('th', null, 'Agrees'))),
                h(
                  'tbody',
                  null,
                  ev.raw_candidates.map((c) => h('tr', null, h('td', null, c.model), h('td', null, h('code', { class: 'read' }, c.text)), h('td', null, fmtConf(c.confidence)), h('td', null, c.text === original ? '✔' : '✘'))),
                ),
              ),
            ),
            h('h3', null, 'Votes per reading'),
            h(
              'ul',
              { class: 'vote-bars' },
              votes.map((v) =>
                h(
                  'li',
                  { class: v.text === original ? 'winner' : '' },
                  h('code', null, v.text),
                  h('span', { class: 'bar' }, h('span', { style: `width:${Math.round((v.weight / total) * 100)}%` })),
                  h('span', { class: 'muted' }, `${v.engines.join(', ')} · ${v.weight.toFixed(2)}`),
                ),
              ),
            ),
            h('h3', null, 'Votes per character'),
            positionGrid(ev.raw_candidates, original),
            meta.votes !== undefined ? [h('h3', null, 'Consensus detail from the edge'), h('pre', { class: 'json' }, JSON.stringify(meta.votes, null, 2))] : null,
          ]
        : h('p', { class: 'muted' }, 'No per-engine reads were sent with this event.'),
    ),
    h('section', { class: 'card' }, h('details', null, h('summary', null, 'Metadata'), h('pre', { class: 'json' }, JSON.stringify({ metadata: ev.metadata, vehicle_info: ev.vehicle_info, tpms_status: ev.tpms_status }, null, 2)))),
  );
}
