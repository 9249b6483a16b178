// Administration: the forms that create a course (code, name, teacher, term) and a term.
import { api } from '/dashboard/dashboard-api.js';
import { h, announce, select } from '../dom.js';
import { fmt, t } from '../i18n.js';
import { fieldErrors, labelled } from '../forms.js';

/** The teacher accounts that can be given a course (deactivated ones cannot log in). */
export async function loadTeachers() {
  const { items } = await api('/api/v1/admin/users?role=teacher&limit=1000');
  return items.filter((u) => u.deactivated_at === null);
}

function termLabel(term) {
  return t('courses.term_option', { name: term.name, from: fmt.date(`${term.starts_on}T12:00:00Z`), to: fmt.date(`${term.ends_on}T12:00:00Z`) });
}

/** The form for a new course; `setTeachers`/`setTerms` fill its choices. */
export function courseForm(onCreated) {
  const code = h('input', { name: 'code', required: true, maxLength: 32, autocomplete: 'off' });
  const name = h('input', { name: 'name', required: true, maxLength: 200, autocomplete: 'off' });
  const teacher = select([]);
  const term = select([]);
  const fields = {
    code: labelled(t('courses.code'), code, t('courses.code_hint')),
    name: labelled(t('courses.name'), name),
    teacher_id: labelled(t('courses.teacher'), teacher, t('courses.teacher_hint')),
    term_id: labelled(t('courses.term'), term, t('courses.term_hint')),
  };
  const errors = fieldErrors(fields);
  const alert = h('p', { class: 'error', attrs: { role: 'alert' } });
  const noTeacher = h('p', { class: 'muted', hidden: true }, t('courses.no_teachers'), ' ', h('a', { href: '#/admin/accounts', text: t('courses.no_teachers_link') }));
  const submit = h('button', { type: 'submit', text: t('courses.create') });
  const form = h('form', { noValidate: true, class: 'courses-form' }, Object.values(fields).map(([wrap]) => wrap), noTeacher, submit, alert);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let created;
    const ok = await errors.run(submit, alert, async () => {
      created = await api('/api/v1/admin/courses', { method: 'POST', body: { code: code.value.trim(), name: name.value.trim(), teacher_id: teacher.value || undefined, term_id: term.value || null } });
    });
    if (!ok) return;
    code.value = '';
    name.value = '';
    announce(t('courses.created', { code: created.code }));
    await onCreated(created);
  });
  return {
    section: h('section', { class: 'card courses-card', attrs: { 'aria-labelledby': 'courses-new-h' } }, h('h2', { id: 'courses-new-h', text: t('courses.new.title') }), form),
    setTeachers(teachers) {
      const before = teacher.value;
      teacher.replaceChildren(...[['', t('courses.teacher_pick')], ...teachers.map((u) => [u.id, t('courses.teacher_option', { name: u.full_name, email: u.email })])].map(([v, text]) => h('option', { value: v, text })));
      teacher.value = teachers.some((u) => u.id === before) ? before : '';
      noTeacher.hidden = teachers.length > 0;
    },
    setTerms(terms, chosen) {
      const before = chosen ?? term.value;
      term.replaceChildren(...[['', t('courses.term_none')], ...terms.map((x) => [x.id, termLabel(x)])].map(([v, text]) => h('option', { value: v, text })));
      term.value = terms.some((x) => x.id === before) ? before : '';
    },
  };
}

/** The form for a new term (semester); `onCreated(term)` gets the created term. */
export function termForm(onCreated) {
  const name = h('input', { name: 'term-name', required: true, maxLength: 100, autocomplete: 'off' });
  const starts = h('input', { name: 'starts_on', type: 'date', required: true });
  const ends = h('input', { name: 'ends_on', type: 'date', required: true });
  const fields = {
    name: labelled(t('courses.term_name'), name, t('courses.term_name_hint')),
    starts_on: labelled(t('courses.term_starts'), starts),
    ends_on: labelled(t('courses.term_ends'), ends),
  };
  const errors = fieldErrors(fields);
  const alert = h('p', { class: 'error', attrs: { role: 'alert' } });
  const submit = h('button', { type: 'submit', class: 'secondary', text: t('courses.term_create') });
  const form = h('form', { noValidate: true, class: 'courses-form' }, Object.values(fields).map(([wrap]) => wrap), submit, alert);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let created;
    const ok = await errors.run(submit, alert, async () => {
      created = await api('/api/v1/admin/terms', { method: 'POST', body: { name: name.value.trim(), starts_on: starts.value, ends_on: ends.value } });
    });
    if (!ok) return;
    for (const input of [name, starts, ends]) input.value = '';
    announce(t('courses.term_created', { name: created.name }));
    onCreated(created);
  });
  return { section: h('section', { class: 'card courses-card', attrs: { 'aria-labelledby': 'courses-term-h' } }, h('h2', { id: 'courses-term-h', text: t('courses.term_new') }), form) };
}
