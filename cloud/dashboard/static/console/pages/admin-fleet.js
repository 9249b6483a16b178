/* global setTimeout, clearTimeout */
// Administration: the gateway fleet. Every gateway with its state as it reported it (online or
// offline, last heartbeat, clock skew, outbox depth, radio, version, GATT check-in), polled every
// few seconds until the page is left; a gateway going online or offline is announced.
import { api } from '/dashboard/dashboard-api.js';
import { h, announce, errorText, field, table } from '../dom.js';
import { fmt, t } from '../i18n.js';

export const POLL_MS = 3000;
const CHIP = { online: 'status-online', offline: 'status-offline', never_connected: 'status-pending', revoked: 'status-excused' };
const RADIO = ['poweredOn', 'poweredOff', 'stopped', 'resetting', 'unsupported', 'unauthorized', 'unknown'];

/** The gateway's state in words (its colour only repeats them). */
export function stateChip(gateway) {
  return h('span', { class: `status-chip ${CHIP[gateway.state] ?? ''}`, text: t(`fleet.state.${gateway.state}`) });
}

function skew(g) {
  if (g.clock_skew_ms === null) return '—';
  const seconds = Math.round(g.clock_skew_ms / 100) / 10 || 0; // no “-0”
  const text = t('fleet.skew_s', { s: `${seconds > 0 ? '+' : ''}${fmt.number(seconds)}` });
  return g.clock_skew_flagged ? h('span', { class: 'error fleet-skew-flagged', text: t('fleet.skew_flagged', { skew: text }) }) : text;
}

/** A time of today (in the institution's time zone) as the time only, an older one with its date. */
function when(iso, now, tz) {
  return fmt.date(iso, tz) === fmt.date(now, tz) ? fmt.time(iso, tz) : fmt.dateTime(iso, tz);
}

const radio = (g) => (g.radio === null ? '—' : RADIO.includes(g.radio) ? t(`fleet.radio.${g.radio}`) : g.radio);

function stateCell(g, now, tz) {
  const since = g.state_at ? h('span', { class: 'muted fleet-since', text: t('fleet.since', { time: when(g.state_at, now, tz) }) }) : null;
  return h('span', {}, stateChip(g), since ? ' ' : null, since);
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

export async function render(main, ctx) {
  const updated = h('p', { class: 'muted fleet-updated' });
  const summary = h('p', { class: 'fleet-summary' });
  const problem = h('p', { class: 'error fleet-problem', attrs: { role: 'alert' } });
  const showRevoked = h('input', { type: 'checkbox', name: 'include_revoked' });
  const listBox = h('div');
  let seen = null;

  async function load() {
    const list = await api(`/api/v1/admin/gateways?include_revoked=${showRevoked.checked}`);
    if (ctx.signal.aborted) return;
    const tz = list.timezone;
    const view = table({
      caption: t('fleet.caption'),
      empty: t('fleet.empty'),
      rows: list.items,
      columns: [
        { label: t('fleet.room'), header: true, cell: (g) => g.room_name, class: 'fleet-room' },
        { label: t('fleet.state'), cell: (g) => stateCell(g, list.now, tz) },
        { label: t('fleet.last_seen'), cell: (g) => (g.last_heartbeat ? when(g.last_heartbeat, list.now, tz) : t('fleet.never')) },
        { label: t('fleet.skew'), cell: skew },
        { label: t('fleet.outbox'), cell: (g) => (g.outbox_depth === null ? '—' : fmt.number(g.outbox_depth)) },
        { label: t('fleet.pending'), cell: (g) => fmt.number(g.pending_commands) },
        { label: t('fleet.radio'), cell: radio },
        { label: t('fleet.version'), cell: (g) => g.version ?? '—' },
        { label: t('fleet.checkin'), cell: (g) => t(g.checkin_service ? 'common.yes' : 'common.no') },
        { label: t('fleet.rejected'), cell: (g) => fmt.number(g.rejected_events) },
      ],
    });
    view.querySelector('table')?.classList.add('fleet-table');
    listBox.replaceChildren(view);
    const active = list.items.filter((g) => g.state !== 'revoked');
    summary.textContent = t('fleet.summary', { online: active.filter((g) => g.state === 'online').length, total: active.length });
    updated.textContent = t('fleet.updated', { time: fmt.time(list.now, tz) });
    const changes = [];
    if (seen) {
      for (const g of list.items) {
        const before = seen.get(g.gateway_id);
        if (before !== g.state && (g.state === 'online' || (g.state === 'offline' && before !== undefined))) changes.push(t(`fleet.now.${g.state}`, { room: g.room_name }));
      }
    }
    seen = new Map(list.items.map((g) => [g.gateway_id, g.state]));
    if (changes.length) announce(changes.join(' '));
  }

  async function poll() {
    while (!ctx.signal.aborted) {
      await sleep(POLL_MS, ctx.signal);
      if (ctx.signal.aborted) return;
      try {
        await load();
        problem.textContent = '';
      } catch (e) {
        if (!ctx.signal.aborted) problem.textContent = t('fleet.update_failed', { message: errorText(e) });
      }
    }
  }

  showRevoked.addEventListener('change', () => load().catch((e) => (problem.textContent = errorText(e))));
  await load(); // the page appears with its data
  main.append(
    h('h1', { text: t('fleet.title') }),
    h('p', { class: 'muted', text: t('fleet.intro', { s: POLL_MS / 1000 }) }),
    h('section', { class: 'card', attrs: { 'aria-labelledby': 'fleet-h' } },
      h('h2', { id: 'fleet-h', text: t('fleet.list') }),
      h('div', { class: 'fleet-bar' }, summary, updated),
      h('div', { class: 'fleet-filter' }, field(t('fleet.show_revoked'), showRevoked)),
      problem, listBox,
      h('p', {}, h('a', { href: '#/admin/rooms', text: t('fleet.to_rooms') }))),
  );
  poll();
}
