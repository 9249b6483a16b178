// Teacher: a course's absence-warning thresholds (an attendance percentage to stay at or above,
// a number of absences in a row) and the students the warning job has warned, with when the
// crossing was found and when their mail and the teacher's digest were accepted.
import { api } from '/dashboard/dashboard-api.js';
import { h, field, table, attempt, announce, uid } from '../dom.js';
import { fmt, t } from '../i18n.js';
import { courseForm, courseOfRoute } from './teacher-records-shared.js';

const RULES = {
  min_percent: { max: 100, label: 'warnings.percent', hint: 'warnings.percent_hint', error: 'warnings.error.percent' },
  max_consecutive: { max: 50, label: 'warnings.consecutive', hint: 'warnings.consecutive_hint', error: 'warnings.error.consecutive' },
};

/** The field's value as the API wants it: null when empty, the whole number, or undefined when invalid. */
function ruleValue(input, max) {
  const raw = input.value.trim();
  if (raw === '') return null;
  if (!/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 && n <= max ? n : undefined;
}

function warningText(w, view) {
  if (w.kind === 'percentage') return t('warnings.kind.percentage', { value: fmt.percent(w.value), min: view.min_percent === null ? '—' : fmt.percent(view.min_percent) });
  return t('warnings.kind.consecutive', { count: fmt.number(w.value) });
}

const mailed = (at, tz) => (at ? fmt.dateTime(at, tz) : t('warnings.not_yet'));

function warnedTable(view) {
  const tz = view.timezone;
  return table({
    caption: t('warnings.caption', { code: view.course.code }),
    empty: t('warnings.none'),
    rows: view.warned,
    columns: [
      {
        label: t('warnings.student'), header: true,
        cell: (w) => h('span', {},
          h('a', { href: `#/teacher/students?course=${encodeURIComponent(view.course.id)}&student=${encodeURIComponent(w.student_id)}`, text: w.full_name, attrs: { 'aria-label': t('warnings.history_of', { name: w.full_name }) } }),
          h('br'), h('span', { class: 'muted', text: w.email })),
      },
      { label: t('warnings.warning'), class: 'aw-warning', cell: (w) => h('span', { class: 'status-chip status-absent', text: warningText(w, view) }) },
      { label: t('warnings.since'), cell: (w) => fmt.dateTime(w.crossed_at, tz) },
      { label: t('warnings.student_mail'), cell: (w) => mailed(w.student_mailed_at, tz) },
      { label: t('warnings.teacher_mail'), cell: (w) => mailed(w.teacher_mailed_at, tz) },
    ],
  });
}

function periodText(view) {
  const from = fmt.date(`${view.period.from}T12:00:00Z`);
  const to = fmt.date(`${view.period.to}T12:00:00Z`);
  return t(view.period.basis === 'term' ? 'warnings.period.term' : 'warnings.period.month', { from, to });
}

export async function render(main, ctx) {
  main.append(h('h1', { text: t('warnings.title') }));
  const chosen = await courseOfRoute(main, ctx, t('warnings.no_courses'));
  if (!chosen) return;
  const { courses, course } = chosen;
  main.append(courseForm(courses, course.id, (id) => ctx.navigate('teacher/warnings', { course: id })));
  const path = `/api/v1/teacher/courses/${encodeURIComponent(course.id)}/absence-warnings`;
  let view = await api(path);

  const inputs = {};
  const fields = Object.entries(RULES).map(([key, rule]) => {
    const value = view[key] === null ? '' : String(view[key]);
    inputs[key] = h('input', { name: key, type: 'number', inputMode: 'numeric', min: '1', max: String(rule.max), step: '1', value, class: 'aw-number' });
    return field(t(rule.label), inputs[key], { hint: t(rule.hint) });
  });
  const error = h('p', { id: uid('aw-error'), class: 'error', attrs: { role: 'alert' } });
  const saved = h('p', { class: 'ok', attrs: { role: 'status' } });
  const submit = h('button', { type: 'submit', text: t('common.save') });
  const form = h('form', { class: 'aw-form', noValidate: true }, fields, h('div', { class: 'actions' }, submit), error, saved);
  const updated = h('p', { class: 'muted' });
  const periodLine = h('p', { class: 'muted' });
  const list = h('div');
  const show = () => {
    updated.textContent = view.updated_at ? t('warnings.updated', { when: fmt.dateTime(view.updated_at, view.timezone) }) : t('warnings.never_set');
    periodLine.textContent = periodText(view);
    list.replaceChildren(warnedTable(view));
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    saved.textContent = '';
    const body = {};
    let invalid = null;
    for (const [key, rule] of Object.entries(RULES)) {
      const input = inputs[key];
      body[key] = ruleValue(input, rule.max);
      // An invalid field is marked and described by the error as well as its hint.
      const hint = (input.getAttribute('aria-describedby') ?? '').replace(error.id, '').trim();
      if (body[key] === undefined) {
        input.setAttribute('aria-invalid', 'true');
        input.setAttribute('aria-describedby', `${hint} ${error.id}`.trim());
      } else {
        input.removeAttribute('aria-invalid');
        input.setAttribute('aria-describedby', hint);
      }
      if (body[key] === undefined && !invalid) invalid = { input, text: t(rule.error) };
    }
    if (invalid) {
      error.textContent = invalid.text;
      invalid.input.focus();
      return;
    }
    const ok = await attempt(submit, error, async () => {
      view = await api(path, { method: 'PUT', body });
    });
    if (!ok) return;
    show();
    saved.textContent = t('warnings.saved', { code: view.course.code });
    announce(saved.textContent);
  });

  main.append(
    h('section', { class: 'card', attrs: { 'aria-labelledby': 'aw-rules-h' } },
      h('h2', { id: 'aw-rules-h', text: t('warnings.rules', { code: course.code }) }),
      h('p', { text: t('warnings.explain') }),
      form, updated),
    h('section', { class: 'card', attrs: { 'aria-labelledby': 'aw-warned-h' } },
      h('h2', { id: 'aw-warned-h', text: t('warnings.warned') }),
      periodLine, list),
  );
  show();
}
