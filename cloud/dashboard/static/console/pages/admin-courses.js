// Administration: courses. Without `id` the list of courses with the forms to create a course and
// a term and the OneRoster import; with `?id=…` one course (admin-course-detail.js).
import { api } from '/dashboard/dashboard-api.js';
import { h, table } from '../dom.js';
import { t } from '../i18n.js';
import { renderCourse } from './admin-course-detail.js';
import { courseForm, loadTeachers, termForm } from './admin-course-create.js';
import { oneRosterImport } from './admin-course-import.js';

export async function render(main, ctx) {
  const id = ctx.query.get('id');
  if (id) return renderCourse(main, ctx, id);

  const listBox = h('div');
  let terms = [];
  const course = courseForm(() => refresh());
  const term = termForm((created) => {
    terms = [...terms, created];
    course.setTerms(terms, created.id);
  });

  async function refresh() {
    const [courses, teachers, termList] = await Promise.all([api('/api/v1/admin/courses'), loadTeachers(), api('/api/v1/admin/terms')]);
    terms = termList.items;
    const teacherName = new Map(teachers.map((u) => [u.id, u.full_name]));
    const termName = new Map(terms.map((x) => [x.id, x.name]));
    listBox.replaceChildren(table({
      caption: t('courses.list.caption'),
      hideCaption: true,
      empty: t('courses.list.empty'),
      rows: [...courses.items].sort((a, b) => a.code.localeCompare(b.code)),
      columns: [
        { label: t('courses.code'), header: true, cell: (c) => h('a', { href: `#/admin/courses?id=${encodeURIComponent(c.id)}`, text: c.code }) },
        { label: t('courses.name'), cell: (c) => c.name, class: 'wrap' },
        { label: t('courses.teacher'), cell: (c) => teacherName.get(c.teacher_id) ?? t('courses.teacher_unknown') },
        { label: t('courses.term'), cell: (c) => (c.term_id ? termName.get(c.term_id) ?? '—' : t('courses.term_none')) },
      ],
    }));
    course.setTeachers(teachers);
    course.setTerms(terms);
  }

  main.append(
    h('h1', { text: t('courses.title') }),
    h('section', { class: 'card courses-card', attrs: { 'aria-labelledby': 'courses-list-h' } }, h('h2', { id: 'courses-list-h', text: t('courses.list.title') }), listBox),
    course.section,
    term.section,
    oneRosterImport(() => refresh()),
  );
  await refresh();
}
