/**
 * The gate's access decision on an event, as the pages show it: a compact badge for the live
 * cards and search rows, the full facts for the event page.
 *
 * The badge always says the action in a word (Open, Denied, Alert, —), never by colour alone;
 * an event decided before access lists existed (no `decision`) shows "—" like a read no list
 * matched, with a tooltip telling the two apart. A read that opened and also matched a watch
 * list carries an extra "Alert" tag: the alert is never hidden behind the open.
 */
import { h } from './dom.js';
import type { Decision, DecisionAction } from './types.js';

export const ACTION_TEXT: Record<DecisionAction, string> = { open: 'Open', deny: 'Denied', alert: 'Alert', none: '—' };
const ACTION_MARK: Record<DecisionAction, string> = { open: '✔ ', deny: '✘ ', alert: '⚠ ', none: '' };

/** "→ in" / "← out": the direction in a word with an arrow. */
export function directionText(d: 'in' | 'out' | null | undefined): string {
  return d === 'in' ? '→ in' : d === 'out' ? '← out' : '';
}

function actionPill(d: Decision | null | undefined): HTMLElement {
  const action = d?.action ?? 'none';
  const title = d ? d.reason : 'No decision recorded for this event';
  return h(
    'span',
    { class: `decision decision-${d ? action : 'unknown'}`, 'data-testid': 'decision', 'data-action': d ? action : '', title },
    `${ACTION_MARK[action]}${ACTION_TEXT[action]}`,
  );
}

/** The decision in one line: action, list name, entry label, direction. */
export function decisionBadge(d: Decision | null | undefined): HTMLElement {
  return h(
    'span',
    { class: 'decision-line' },
    actionPill(d),
    d?.alert && d.action !== 'alert' ? h('span', { class: 'decision decision-alert', 'data-testid': 'decision-alert' }, '⚠ Alert') : null,
    d?.list ? h('span', { class: 'decision-list', 'data-testid': 'decision-list', title: `${d.list.type} list` }, d.list.name) : null,
    d?.entry_label ? h('span', { class: 'decision-label', 'data-testid': 'decision-label' }, d.entry_label) : null,
    d?.direction ? h('span', { class: 'decision-dir', 'data-testid': 'decision-direction' }, directionText(d.direction)) : null,
  );
}

/** Every field of the decision as a definition list (the event page). */
export function decisionFacts(d: Decision | null | undefined): HTMLElement {
  if (!d) return h('p', { class: 'muted', 'data-testid': 'decision-facts' }, 'No decision recorded: the edge sent this read without one (no access lists, or software from before them).');
  const row = (label: string, value: string | Node, key: string) => [h('dt', null, label), h('dd', { 'data-field': key }, value)];
  return h(
    'dl',
    { class: 'facts', 'data-testid': 'decision-facts' },
    row('Action', decisionBadge({ ...d, list: null, entry_label: null, direction: null }), 'action'),
    row('Reason', d.reason || '—', 'reason'),
    row('List', d.list ? h('a', { href: `#/lists/${encodeURIComponent(d.list.id)}` }, `${d.list.name} (${d.list.type})`) : '—', 'list'),
    row('Entry', d.entry_label ?? '—', 'entry_label'),
    row('Matched plate', d.matched_plate ? h('span', { class: 'plate plate-sm' }, d.matched_plate) : '—', 'matched_plate'),
    row('Distance', d.distance === null ? '—' : d.distance === 0 ? '0 (exact)' : String(d.distance), 'distance'),
    row('Direction', directionText(d.direction) || '—', 'direction'),
    row('Alert', d.alert ? 'yes: a watch list matched' : 'no', 'alert'),
    row('Latency', d.latency_ms === null ? '—' : `${Math.round(d.latency_ms)} ms`, 'latency_ms'),
  );
}
