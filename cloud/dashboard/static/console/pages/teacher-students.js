/* global URLSearchParams */
// Teacher: the students of a course with their attendance percentage for the term or a month,
// those below the course's minimum first (said in words, not only in colour) and filterable, and
// one student's history: every ended session of the course with the status, why, and overrides.
import { api } from '/dashboard/dashboard-api.js';
import { h, field, select, table } from '../dom.js';
import { fmt, t } from '../i18n.js';
import { courseForm, reasonList, statusCell, courseOfRoute } from './teacher-records-shared.js';

function standing(row) {
  if (row.percentage === null) return h('span', { class: 'status-chip status-excused', text: t('records.students.no_data') });
  return row.below_minimum
    ? h('span', { class: 'status-chip status-absent', text: t('records.students.below') })
    : h('span', { class: 'status-chip status-present', text: t('records.students.ok') });
}

const byStanding = (a, b) => Number(b.below_minimum) - Number(a.below_minimum) || (a.percentage ?? 101) - (b.percentage ?? 101) || a.full_name.localeCompare(b.full_name);

async function renderList(main, ctx) {
  main.append(h('h1', { text: t('records.students.title') }));
  const chosen = await courseOfRoute(main, ctx, t('records.no_courses'));
  if (!chosen) return;
  const { courses, course } = chosen;
  // The term where the course has one; a month otherwise (and when asked for).
  const period = ctx.query.get('period') === 'month' || !course.term_id ? 'month' : 'semester';
  const month = /^\d{4}-\d{2}$/.test(ctx.query.get('month') ?? '') ? ctx.query.get('month') : '';
  const onlyBelow = ctx.query.get('below') === '1';

  const periodSelect = select([['semester', t('records.students.period.semester')], ['month', t('records.students.period.month')]], { name: 'period', value: period });
  const monthInput = h('input', { type: 'month', name: 'month', value: month });
  const below = h('input', { type: 'checkbox', name: 'below', checked: onlyBelow, id: 'tr-only-below' });
  const extra = [field(t('records.students.period'), periodSelect), field(t('records.students.month'), monthInput, { hint: t('records.students.month_hint') }), h('label', { class: 'tr-filter', htmlFor: below.id }, below, t('records.students.only_below'))];
  main.append(courseForm(courses, course.id, (id) => ctx.navigate('teacher/students', {
    course: id, period: periodSelect.value === 'month' ? 'month' : undefined, month: periodSelect.value === 'month' ? monthInput.value : undefined, below: below.checked ? '1' : undefined,
  }), extra));

  const q = new URLSearchParams({ course_id: course.id, period });
  if (period === 'month' && month) q.set('month', month);
  const report = await api(`/api/v1/teacher/analytics/attendance_percentage?${q}`);
  const belowCount = report.items.filter((i) => i.below_minimum).length;
  const rows = report.items.filter((i) => !onlyBelow || i.below_minimum).sort(byStanding);
  const min = fmt.percent(report.min_attendance_percent);
  main.append(h('section', { class: 'card' },
    h('p', { text: t('records.students.summary', { below: fmt.number(belowCount), total: fmt.number(report.items.length), min, held: fmt.number(report.sessions_held) }) }),
    table({
      caption: t('records.students.caption', { code: course.code, from: fmt.date(`${report.from}T12:00:00Z`), to: fmt.date(`${report.to}T12:00:00Z`) }),
      empty: t(onlyBelow ? 'records.students.none_below' : 'records.students.empty'),
      rows,
      columns: [
        {
          label: t('records.students.student'), header: true,
          cell: (r) => h('a', { href: `#/teacher/students?course=${course.id}&student=${r.student_id}`, text: r.full_name, attrs: { 'aria-label': t('records.students.history_of', { name: r.full_name }) } }),
        },
        { label: t('records.students.percentage'), cell: (r) => fmt.percent(r.percentage) },
        { label: t('records.students.standing'), cell: standing },
        ...['present', 'late', 'absent', 'excused'].map((key) => ({ label: t(`records.count.${key}`), cell: (r) => fmt.number(r[key]) })),
      ],
    })));
}

async function renderHistory(main, ctx, courseId, studentId) {
  const hist = await api(`/api/v1/teacher/courses/${encodeURIComponent(courseId)}/students/${encodeURIComponent(studentId)}/history`);
  const tz = hist.timezone;
  const title = t('records.history.title', { name: hist.student.full_name, code: hist.course.code });
  ctx.setTitle(title);
  main.append(
    h('h1', { text: title }),
    h('p', {}, h('a', { href: `#/teacher/students?course=${hist.course.id}`, text: t('records.history.back', { code: hist.course.code }) })),
    h('section', { class: 'card' },
      h('p', {}, t('records.history.percentage', { percentage: fmt.percent(hist.percentage) }), ' ', standing(hist), ' ', t('records.history.minimum', { min: fmt.percent(hist.min_attendance_percent) })),
      h('dl', { class: 'facts' }, ['present', 'late', 'absent', 'excused'].flatMap((key) => [h('dt', { text: t(`records.count.${key}`) }), h('dd', { text: fmt.number(hist[key]) })]))),
  );
  main.append(h('section', { class: 'card' }, table({
    caption: t('records.history.caption', { code: hist.course.code }),
    empty: t('records.history.empty'),
    rows: hist.items,
    columns: [
      {
        label: t('records.history.session'), header: true,
        cell: (r) => h('a', { href: `#/teacher/sessions?id=${r.session_id}`, text: fmt.dateTime(r.started_at, tz), attrs: { 'aria-label': t('records.history.open', { when: fmt.dateTime(r.started_at, tz) }) } }),
      },
      { label: t('records.session.status'), cell: (r) => statusCell(r.status, r.override) },
      { label: t('records.session.why'), class: 'wrap', cell: (r) => (r.status === null ? '—' : reasonList(r, tz)) },
    ],
  })));
}

export async function render(main, ctx) {
  const courseId = ctx.query.get('course');
  const studentId = ctx.query.get('student');
  if (courseId && studentId) await renderHistory(main, ctx, courseId, studentId);
  else await renderList(main, ctx);
}
