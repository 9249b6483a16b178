// Administration: one course (#/admin/courses?id=…): its facts, policy, roster and timetable.
import { ApiError, api } from '/dashboard/dashboard-api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { loadTeachers } from './admin-course-create.js';
import { policySection } from './admin-course-policy.js';
import { rosterSection } from './admin-course-roster.js';
import { timetableSection } from './admin-course-timetable.js';

export async function renderCourse(main, ctx, id) {
  const back = h('p', {}, h('a', { href: '#/admin/courses', text: t('courses.back') }));
  let course;
  try {
    course = await api(`/api/v1/admin/courses/${encodeURIComponent(id)}`);
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 400)) throw e;
    main.append(h('h1', { text: t('courses.title') }), h('p', { class: 'error', attrs: { role: 'alert' }, text: t('courses.not_found') }), back);
    return;
  }
  const [teachers, terms] = await Promise.all([loadTeachers(), api('/api/v1/admin/terms')]);
  const teacher = teachers.find((u) => u.id === course.teacher_id);
  const term = terms.items.find((x) => x.id === course.term_id);
  const title = t('courses.detail.title', { code: course.code, name: course.name });
  ctx.setTitle(title);
  main.append(
    h('h1', { text: title }),
    back,
    h('section', { class: 'card courses-card', attrs: { 'aria-labelledby': 'course-facts-h' } },
      h('h2', { id: 'course-facts-h', text: t('courses.detail.facts') }),
      h('dl', { class: 'facts' },
        h('dt', { text: t('courses.code') }), h('dd', { text: course.code }),
        h('dt', { text: t('courses.name') }), h('dd', { text: course.name }),
        h('dt', { text: t('courses.teacher') }), h('dd', { text: teacher ? t('courses.teacher_option', { name: teacher.full_name, email: teacher.email }) : t('courses.teacher_unknown') }),
        h('dt', { text: t('courses.term') }), h('dd', { text: term ? term.name : t('courses.term_none') }))),
    policySection(course),
  );
  const roster = await rosterSection(course);
  const timetable = await timetableSection(course);
  main.append(roster, timetable);
}
