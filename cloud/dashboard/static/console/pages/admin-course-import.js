// Administration: importing the institution's rosters as a OneRoster CSV bundle (a zip file) and
// the report the API gives back (what was created, changed or removed, and the refused rows).
import { api } from '/dashboard/dashboard-api.js';
import { h, announce, attempt, field, table } from '../dom.js';
import { fmt, t } from '../i18n.js';

const KINDS = ['terms', 'accounts', 'courses', 'enrollments'];
const n = (x) => fmt.number(x);

function report(r) {
  const summary = t(r.dry_run ? 'courses.import.summary_dry' : 'courses.import.summary', {
    created: n(r.created), updated: n(r.updated), unchanged: n(r.unchanged), deleted: n(r.deleted), rejected: n(r.rejected.length),
  });
  return [
    h('p', { class: 'courses-summary', text: summary }),
    table({
      caption: t('courses.import.kinds_caption'),
      rows: KINDS.map((k) => ({ kind: k, ...r.by_kind[k] })),
      columns: [
        { label: t('courses.import.kind'), header: true, cell: (x) => t(`courses.import.kind.${x.kind}`) },
        { label: t('courses.import.created'), cell: (x) => n(x.created) },
        { label: t('courses.import.updated'), cell: (x) => n(x.updated) },
        { label: t('courses.import.unchanged'), cell: (x) => n(x.unchanged) },
        { label: t('courses.import.deleted'), cell: (x) => n(x.deleted) },
      ],
    }),
    table({
      caption: t('courses.import.files_caption'),
      rows: r.files,
      columns: [
        { label: t('courses.import.file'), header: true, cell: (x) => x.file },
        { label: t('courses.import.mode'), cell: (x) => t(`courses.import.mode.${x.mode}`) },
        { label: t('courses.import.rows'), cell: (x) => n(x.rows) },
      ],
    }),
    r.rejected.length
      ? table({
        caption: t('courses.import.rejected_caption'),
        rows: r.rejected,
        columns: [
          { label: t('courses.import.file'), header: true, cell: (x) => x.file },
          { label: t('courses.import.line'), cell: (x) => n(x.line) },
          { label: t('courses.import.sourced_id'), cell: (x) => x.sourcedId },
          { label: t('courses.import.reason'), cell: (x) => x.reason, class: 'wrap' },
        ],
      })
      : h('p', { class: 'muted', text: t('courses.import.none_rejected') }),
  ];
}

/** The import section; `onImported` runs after a bundle was written (not after a dry run). */
export function oneRosterImport(onImported) {
  const file = h('input', { name: 'bundle', type: 'file', accept: '.zip,application/zip' });
  const dry = h('input', { name: 'dry_run', type: 'checkbox' });
  const alert = h('p', { class: 'error', attrs: { role: 'alert' } });
  const out = h('div', { class: 'courses-report' });
  const submit = h('button', { type: 'submit', text: t('courses.import.submit') });
  const dryId = 'courses-import-dry';
  dry.id = dryId;
  const form = h('form', { noValidate: true, class: 'courses-form' },
    field(t('courses.import.file_label'), file, { hint: t('courses.import.file_hint') }),
    h('div', { class: 'courses-check' }, dry, h('label', { htmlFor: dryId, text: t('courses.import.dry_run') })),
    submit, alert);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) {
      alert.textContent = t('courses.import.choose');
      return;
    }
    let r;
    const ok = await attempt(submit, alert, async () => {
      r = await api(`/api/v1/admin/imports/oneroster${dry.checked ? '?dry_run=true' : ''}`, { method: 'POST', body: chosen, type: 'application/zip' });
    });
    if (!ok) return out.replaceChildren();
    out.replaceChildren(h('h3', { text: t('courses.import.report_title', { file: chosen.name }) }), ...report(r));
    announce(out.querySelector('.courses-summary').textContent);
    if (!r.dry_run) await onImported();
  });
  return h('section', { class: 'card courses-card', attrs: { 'aria-labelledby': 'courses-import-h' } },
    h('h2', { id: 'courses-import-h', text: t('courses.import.title') }),
    h('p', { class: 'muted', text: t('courses.import.intro') }),
    form, out);
}
