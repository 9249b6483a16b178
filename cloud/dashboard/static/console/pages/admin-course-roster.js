// Administration: a course's roster: the enrolled students (each can be removed, after a
// confirmation) and the CSV upload with its per-row report (enrolled, enrolled before, refused and why).
import { api } from '/dashboard/dashboard-api.js';
import { h, announce, attempt, errorText, field, table } from '../dom.js';
import { fmt, t } from '../i18n.js';
import { confirmAction } from '../forms.js';

/** The reason of a refused row in the page's language (the API's own text for a code it does not know). */
function reason(row) {
  const key = `courses.roster.reject.${row.code}`;
  const text = t(key);
  return text === key ? row.message : text;
}

function reportTable(r) {
  const rows = [
    ...r.accepted.map((x) => ({ row: x.row, value: x.value, outcome: x.outcome, reason: '' })),
    ...r.rejected.map((x) => ({ row: x.row, value: x.value, outcome: 'rejected', reason: reason(x) })),
  ].sort((a, b) => a.row - b.row);
  return table({
    caption: t('courses.roster.report_caption'),
    empty: t('courses.roster.report_empty'),
    rows,
    columns: [
      { label: t('courses.roster.row'), header: true, cell: (x) => fmt.number(x.row) },
      { label: t('courses.roster.value'), cell: (x) => x.value },
      { label: t('courses.roster.outcome'), cell: (x) => h('span', { class: `status-chip courses-outcome-${x.outcome}`, text: t(`courses.roster.outcome.${x.outcome}`) }) },
      { label: t('courses.roster.reason'), cell: (x) => x.reason, class: 'wrap' },
    ],
  });
}

export async function rosterSection(course) {
  const base = `/api/v1/admin/courses/${encodeURIComponent(course.id)}/enrollments`;
  const listBox = h('div');
  const listAlert = h('p', { class: 'error', attrs: { role: 'alert' } });

  async function refresh() {
    const { items } = await api(base);
    listBox.replaceChildren(
      h('p', { class: 'muted', text: t(items.length === 1 ? 'courses.roster.count_one' : 'courses.roster.count', { n: fmt.number(items.length) }) }),
      table({
        caption: t('courses.roster.caption', { code: course.code }),
        empty: t('courses.roster.empty'),
        rows: items,
        columns: [
          { label: t('courses.roster.name'), header: true, cell: (s) => s.full_name },
          { label: t('courses.roster.email'), cell: (s) => s.email },
          { label: t('common.actions'), cell: (s) => h('button', { type: 'button', class: 'small secondary courses-action', on: { click: (e) => remove(s, e.currentTarget) } }, t('courses.roster.remove'), h('span', { class: 'visually-hidden', text: ` ${s.full_name}` })) },
        ],
      }));
  }

  async function remove(student, button) {
    const { confirmed: yes } = await confirmAction({
      title: t('courses.roster.remove_title'),
      text: t('courses.roster.remove_text', { name: student.full_name, email: student.email, code: course.code }),
      confirm: t('courses.roster.remove_confirm'),
    });
    if (!yes) return;
    const ok = await attempt(button, listAlert, () => api(`${base}/${encodeURIComponent(student.id)}`, { method: 'DELETE', accept: '*/*' }));
    if (!ok) return;
    await refresh();
    heading.focus(); // the removed row's button is gone
    announce(t('courses.roster.removed', { name: student.full_name }));
  }

  const file = h('input', { name: 'roster', type: 'file', accept: '.csv,text/csv' });
  const alert = h('p', { class: 'error', attrs: { role: 'alert' } });
  const out = h('div', { class: 'courses-report' });
  const submit = h('button', { type: 'submit', text: t('courses.roster.upload') });
  const form = h('form', { noValidate: true, class: 'courses-form' }, field(t('courses.roster.file'), file, { hint: t('courses.roster.file_hint') }), submit, alert);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) {
      alert.textContent = t('courses.roster.choose');
      return;
    }
    let r;
    const ok = await attempt(submit, alert, async () => {
      r = await api(base, { method: 'POST', body: await chosen.text(), type: 'text/csv' });
    });
    if (!ok) return out.replaceChildren();
    const summary = t('courses.roster.summary', { enrolled: fmt.number(r.enrolled), already: fmt.number(r.already_enrolled), rejected: fmt.number(r.rejected.length) });
    out.replaceChildren(h('h3', { text: t('courses.roster.report_title', { file: chosen.name }) }), h('p', { class: 'courses-summary', text: summary }), reportTable(r));
    announce(summary);
    await refresh().catch((e) => (listAlert.textContent = errorText(e)));
  });

  const heading = h('h2', { id: 'course-roster-h', tabIndex: -1, text: t('courses.roster.title') });
  await refresh();
  return h('section', { class: 'card courses-card', attrs: { 'aria-labelledby': 'course-roster-h' } },
    heading,
    listBox, listAlert,
    h('h3', { text: t('courses.roster.upload_title') }),
    form, out);
}
