// The session page's words and tables: the gateway's confirmation, the live counts and the
// roster (status so far, windows seen and witnessed, relay flags with their evidence).
import { h, table } from '../dom.js';
import { fmt, t } from '../i18n.js';
import { flagLine } from './relay-flags.js';

/**
 * What the room's gateway said about the start or end (`ack` of the start/end answers and of
 * GET /session/:id/gateway; null: the cloud has no gateway link). `settled` is false while an
 * answer may still come.
 */
export function gatewayText(ack, command, session) {
  const verb = command === 'session.end' ? 'end' : 'start';
  if (verb === 'start' && session.source !== 'cloud') return { text: t('teacherSession.gateway.own_start'), settled: true, tone: 'ok' };
  if (!ack) return { text: t('teacherSession.gateway.no_link'), settled: true, tone: 'none' };
  switch (ack.state) {
    case 'confirmed': return { text: t(`teacherSession.gateway.confirmed_${verb}`), settled: true, tone: 'ok' };
    case 'pending': return { text: t(`teacherSession.gateway.pending_${verb}`), settled: false, tone: 'wait' };
    case 'queued': return { text: t(`teacherSession.gateway.queued_${verb}`), settled: false, tone: 'wait' };
    case 'failed': return { text: t(`teacherSession.gateway.failed_${verb}`, { message: ack.error?.message || ack.error?.code || '' }), settled: true, tone: 'bad' };
    case 'cancelled': return { text: t('teacherSession.gateway.cancelled'), settled: true, tone: 'ok' };
    default: return { text: t('teacherSession.gateway.no_gateway'), settled: true, tone: 'none' };
  }
}

/** The counts a teacher watches, from the roster itself (so counts and rows never disagree). */
export function countsOf(items) {
  const c = { enrolled: items.length, checked_in: 0, present: 0, late: 0, absent: 0, excused: 0 };
  for (const i of items) {
    if (i.windows_seen > 0) c.checked_in++;
    c[i.status]++;
  }
  return c;
}

export function countsList(c, live) {
  const item = (key, value) => h('div', {}, h('dt', { text: t(key) }), h('dd', { text: fmt.number(value) }));
  return h('dl', { class: 'ts-counts' },
    item('teacherSession.count.checked_in', c.checked_in),
    item('teacherSession.count.enrolled', c.enrolled),
    item('teacherSession.count.present', c.present),
    item('teacherSession.count.late', c.late),
    item(live ? 'teacherSession.count.absent_so_far' : 'teacherSession.count.absent', c.absent),
    item('teacherSession.count.excused', c.excused));
}

function statusCell(item) {
  const key = item.status === 'absent' && item.provisional ? 'absent_so_far' : item.status;
  const chip = h('span', { class: `status-chip status-${item.status}`, text: t(`teacherSession.status.${key}`) });
  if (!item.override) return chip;
  return h('span', {}, chip, ' ', h('span', { class: 'muted', text: t('teacherSession.overridden', { reason: item.override.reason }) }));
}

/** Relay flags and the reasons worth a word, as a list (or a dash). */
function notesCell(item, names, rooms) {
  const notes = item.flags.map((f) => h('li', { class: 'ts-flag', text: flagLine(f, { studentId: item.student_id, names, rooms }) }));
  if (item.reasons.includes('not_witnessed')) notes.push(h('li', { text: t('teacherSession.reason.not_witnessed') }));
  if (item.reasons.includes('verification_missing')) notes.push(h('li', { text: t('teacherSession.reason.verification_missing') }));
  return notes.length ? h('ul', { class: 'ts-notes' }, notes) : '—';
}

/** The roster table: every enrolled student, sorted by name. */
export function rosterTable(items, { caption, timezone, rooms }) {
  const names = new Map(items.map((i) => [i.student_id, i.full_name]));
  const rows = [...items].sort((a, b) => a.full_name.localeCompare(b.full_name));
  return table({
    caption,
    rows,
    empty: t('teacherSession.roster.empty'),
    columns: [
      { label: t('teacherSession.roster.student'), header: true, cell: (i) => h('span', {}, i.full_name, h('br'), h('span', { class: 'muted', text: i.email })) },
      { label: t('teacherSession.roster.status'), cell: statusCell },
      { label: t('teacherSession.roster.windows'), cell: (i) => t('teacherSession.roster.of', { n: fmt.number(i.windows_seen), total: fmt.number(i.windows_total) }) },
      { label: t('teacherSession.roster.witnessed'), cell: (i) => fmt.number(i.witnessed_windows) },
      { label: t('teacherSession.roster.last_seen'), cell: (i) => (i.last_seen ? fmt.time(i.last_seen, timezone) : '—') },
      { label: t('teacherSession.roster.notes'), class: 'wrap', cell: (i) => notesCell(i, names, rooms) },
    ],
  });
}
