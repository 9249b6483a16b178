/* global URLSearchParams */
// Administration: the audit log. Who changed what and when, newest first, narrowed by action,
// actor, target and dates (kept in the address, so a filtered view can be bookmarked), a page at
// a time, in the institution's time zone. The details are shown as "key: value" text, never as markup.
import { api } from '/dashboard/dashboard-api.js';
import { h, select, table } from '../dom.js';
import { fmt, t } from '../i18n.js';
import { fieldErrors, labelled } from '../forms.js';

const PAGE_SIZE = 50;
const FILTERS = ['action', 'actor', 'target', 'from', 'to'];
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** A value of the details as text: strings as they are, anything else as JSON. */
const valueText = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

function detailsCell(details) {
  const entries = Object.entries(details ?? {});
  if (!entries.length) return t('audit.no_details');
  return h('ul', { class: 'audit-details' }, entries.map(([k, v]) => h('li', { text: `${k}: ${valueText(v)}` })));
}

function actorCell(actor) {
  if (!actor) return t('audit.system');
  if (!actor.email) return t('audit.unknown_actor', { id: actor.id });
  return `${actor.full_name} (${actor.email})`;
}

export async function render(main, ctx) {
  const current = Object.fromEntries(FILTERS.map((k) => [k, ctx.query.get(k) ?? '']));
  const before = ctx.query.get('before') ?? '';
  // The cursors of the pages before this one, so "Newer entries" can go back.
  const trail = (ctx.query.get('trail') ?? '').split('.').filter((c) => /^\d+$/.test(c));

  const error = h('p', { class: 'error', attrs: { role: 'alert' } });
  const listBox = h('div');
  const action = select([['', t('audit.all_actions')]], { name: 'action' });
  const actor = h('input', { name: 'actor', value: current.actor, maxLength: 254, autocomplete: 'off' });
  const target = h('input', { name: 'target', value: current.target, maxLength: 200, autocomplete: 'off' });
  const from = h('input', { name: 'from', type: 'date', value: DATE_RE.test(current.from) ? current.from : '' });
  const to = h('input', { name: 'to', type: 'date', value: DATE_RE.test(current.to) ? current.to : '' });
  const fields = {
    action: labelled(t('audit.action'), action), actor: labelled(t('audit.actor'), actor), target: labelled(t('audit.target'), target),
    from: labelled(t('audit.from'), from), to: labelled(t('audit.to'), to),
  };
  const errors = fieldErrors(fields);
  const form = h('form', { class: 'toolbar', noValidate: true, attrs: { 'aria-label': t('audit.filters') } },
    Object.values(fields).map(([wrap]) => wrap),
    h('button', { type: 'submit', text: t('audit.show') }),
    h('button', { type: 'button', class: 'secondary', text: t('audit.clear'), on: { click: () => ctx.navigate('admin/audit') } }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    errors.clear();
    if (from.value && to.value && to.value < from.value) {
      to.setAttribute('aria-invalid', 'true');
      error.textContent = t('audit.range_wrong');
      to.focus();
      return;
    }
    ctx.navigate('admin/audit', { action: action.value, actor: actor.value.trim(), target: target.value.trim(), from: from.value, to: to.value });
  });

  main.append(h('h1', { text: t('audit.title') }), h('section', { class: 'card' }, form), error, listBox);

  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const k of ['action', 'actor', 'target']) if (current[k]) params.set(k, current[k]);
  // Dates go as they are: the server reads them in the institution's time zone, `to` with its day.
  for (const k of ['from', 'to']) if (DATE_RE.test(current[k])) params.set(k, current[k]);
  if (/^\d+$/.test(before)) params.set('before', before);
  let res;
  try {
    res = await api(`/api/v1/admin/audit?${params}`);
  } catch (e) {
    // A filter the server refuses (an unknown actor, a malformed one) is said beside its field.
    if (e.code === 'unknown_actor') e.details = [{ path: 'actor', message: e.message }];
    errors.show(e, error);
    return;
  }
  const known = new Set(res.actions);
  if (current.action) known.add(current.action);
  action.replaceChildren(h('option', { value: '', text: t('audit.all_actions') }), ...[...known].sort().map((a) => h('option', { value: a, text: a })));
  action.value = current.action;

  const tz = res.timezone;
  const page = (cursor, nextTrail) => () => ctx.navigate('admin/audit', { ...current, before: cursor, trail: nextTrail.join('.') });
  const newer = trail.length || before
    ? h('button', { type: 'button', class: 'secondary', text: t('audit.newer'), on: { click: page(trail.at(-1) === '0' ? undefined : trail.at(-1), trail.slice(0, -1)) } })
    : null;
  const older = res.next !== null
    ? h('button', { type: 'button', class: 'secondary', text: t('audit.older'), on: { click: page(String(res.next), [...trail, before || '0']) } })
    : null;
  listBox.replaceChildren(
    h('p', { class: 'muted', text: t('audit.shown', { n: fmt.number(res.items.length) }) }),
    table({
      caption: t('audit.caption'),
      empty: t('audit.none'),
      rows: res.items,
      columns: [
        { label: t('audit.time'), header: true, class: 'audit-time', cell: (e) => fmt.dateTime(e.at, tz) },
        { label: t('audit.actor_col'), class: 'wrap', cell: (e) => actorCell(e.actor) },
        { label: t('audit.action'), cell: (e) => e.action },
        { label: t('audit.target_col'), cell: (e) => h('span', { class: 'audit-target', text: e.target }) },
        { label: t('audit.details'), class: 'audit-details-cell', cell: (e) => detailsCell(e.details) },
      ],
    }),
    ...(newer || older ? [h('nav', { class: 'pager', attrs: { 'aria-label': t('audit.pages') } }, newer, older)] : []),
  );
}
