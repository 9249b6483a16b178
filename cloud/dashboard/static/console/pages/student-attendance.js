// Student: my attendance. Per course my percentage against the course's minimum, and each ended
// session with my status and, in plain words, why: how much of the session my phone was counted
// in, whether the room's gateway witnessed it (proof of proximity), whether I confirmed with my
// enrolled device, whether I came late, and a teacher's change with its reason.
import { api } from '/dashboard/dashboard-api.js';
import { h, table } from '../dom.js';
import { fmt, t } from '../i18n.js';

const pct = (fraction) => fmt.percent(Math.round(fraction * 1000) / 10);

/** The reasons of one record as sentences (a reason this page does not know is shown as its code). */
function reasonTexts(record, course) {
  const params = { seen: pct(record.presence), needed: pct(course.min_presence), minutes: fmt.number(course.late_after_min), witnessed: fmt.number(record.witnessed_windows) };
  const texts = record.reasons.map((code) => {
    const key = `student.attendance.reason.${code}`;
    const text = t(key, params);
    return text === key ? code : text;
  });
  if (record.override_reason !== null) texts.push(t('student.attendance.reason.override', { status: t(`student.attendance.status.${record.status}`), reason: record.override_reason }));
  return texts;
}

function summary(course) {
  const countable = course.present + course.late + course.absent;
  const standing = course.percentage === null
    ? h('span', { class: 'status-chip status-excused', text: t('student.attendance.standing.none') })
    : h('span', { class: `status-chip ${course.below_minimum ? 'status-absent' : 'status-present'}`, text: t(course.below_minimum ? 'student.attendance.standing.below' : 'student.attendance.standing.ok') });
  return h('div', { class: 'student-summary' },
    h('p', { class: 'student-percentage' },
      h('span', { class: 'student-big', text: fmt.percent(course.percentage) }), ' ',
      t('student.attendance.percentage_of', { attended: fmt.number(course.attended), countable: fmt.number(countable) })),
    h('p', {}, standing, ' ', t('student.attendance.minimum', { min: fmt.percent(course.min_attendance_percent) })),
    h('dl', { class: 'facts' },
      h('dt', { text: t('student.attendance.status.present') }), h('dd', { text: fmt.number(course.present) }),
      h('dt', { text: t('student.attendance.status.late') }), h('dd', { text: fmt.number(course.late) }),
      h('dt', { text: t('student.attendance.status.absent') }), h('dd', { text: fmt.number(course.absent) }),
      h('dt', { text: t('student.attendance.status.excused') }), h('dd', { text: fmt.number(course.excused) })));
}

function courseSection(course, records, timeZone) {
  const headingId = `att-${course.course_id}`;
  return h('section', { class: 'card', attrs: { 'aria-labelledby': headingId } },
    h('h2', { id: headingId, text: t('student.attendance.course', { code: course.course_code, name: course.course_name }) }),
    summary(course),
    recordsTable(course, records, timeZone));
}

/** The sessions of one course; its cells read left to right (words, not figures). */
function recordsTable(course, records, timeZone) {
  const el = table({
    caption: t('student.attendance.sessions_caption', { code: course.course_code }),
    empty: t('student.attendance.sessions_empty'),
    rows: records,
    columns: [
      { label: t('student.attendance.session'), header: true, cell: (r) => fmt.dateTime(r.started_at, timeZone) },
      { label: t('student.attendance.status'), cell: (r) => h('span', { class: `status-chip status-${r.status}`, text: t(`student.attendance.status.${r.status}`) }) },
      { label: t('student.attendance.why'), class: 'wrap', cell: (r) => h('ul', { class: 'student-reasons' }, reasonTexts(r, course).map((text) => h('li', { text }))) },
    ],
  });
  el.classList.add('student-table', 'student-fit');
  return el;
}

export async function render(main) {
  const { items, courses, timezone } = await api('/api/v1/student/attendance?limit=1000');
  main.append(h('h1', { text: t('student.attendance.title') }));
  if (!courses.length) {
    main.append(h('section', { class: 'card' }, h('p', { text: t('student.attendance.empty') })));
    return;
  }
  main.append(h('p', { class: 'muted', text: t('student.attendance.intro') }));
  for (const course of courses) main.append(courseSection(course, items.filter((r) => r.course_id === course.course_id), timezone));
}
