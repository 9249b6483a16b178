// What the past-sessions and students pages share: the course chooser, a status in words and
// the reasons of a record (the rules' decision, relay checks, a teacher's override with who set it).
import { api } from '/dashboard/dashboard-api.js';
import { h, field, select } from '../dom.js';
import { fmt, t } from '../i18n.js';
import { flagLine } from './relay-flags.js';

/** The courses the account teaches (admins: all), by code. */
async function teacherCourses() {
  const { items } = await api('/api/v1/teacher/courses');
  return items.sort((a, b) => a.code.localeCompare(b.code));
}

/**
 * The teacher's courses and the one the route names (`?course=`, else the first). With no course
 * at all it says `noneText` in `main` and gives null.
 */
export async function courseOfRoute(main, ctx, noneText) {
  const courses = await teacherCourses();
  if (!courses.length) {
    main.append(h('p', { class: 'card', text: noneText }));
    return null;
  }
  return { courses, course: courses.find((c) => c.id === ctx.query.get('course')) ?? courses[0] };
}

/**
 * A form choosing the course (and whatever `extra` controls the page adds); it applies on its
 * button, not on every change of the list, so moving through the options by keyboard stays put.
 */
export function courseForm(courses, courseId, onSubmit, extra = []) {
  const course = select(courses.map((c) => [c.id, `${c.code} — ${c.name}`]), { name: 'course', value: courseId });
  const form = h('form', { class: 'toolbar card', noValidate: true }, field(t('common.course'), course), extra, h('button', { type: 'submit', text: t('records.choose') }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    onSubmit(course.value);
  });
  return form;
}

/** A status as a chip: the word itself, the colour only beside it. */
export function statusChip(status) {
  if (status === null) return h('span', { class: 'status-chip status-excused', text: t('records.status.none') });
  return h('span', { class: `status-chip status-${status}`, text: t(`records.status.${status}`) });
}

/** The status, marked when a person set it. */
export function statusCell(status, override) {
  const chip = statusChip(status);
  return override ? h('span', { class: 'tr-status' }, chip, ' ', h('span', { class: 'tr-by-hand', text: t('records.set_by_hand') })) : chip;
}

/** Who set an override, when and why, in one sentence. */
export function overrideText(o, timeZone) {
  return t('records.override_by', { status: t(`records.status.${o.status}`), name: o.by.full_name ?? t('records.someone'), when: o.at ? fmt.dateTime(o.at, timeZone) : '—', reason: o.reason });
}

/**
 * A record's reasons as a list: each rule's verdict in words (a reason this page does not know
 * is shown as its code), the relay checks, and an override with the rules' own decision.
 * `override.by` is the account {id, full_name}; `names` (student id → name) names the other
 * students a flag mentions.
 */
export function reasonList({ student_id: studentId, reasons, presence, flags = [], override, decided_status: decided }, timeZone, names) {
  const items = reasons.map((code) => {
    const key = `records.reason.${code}`;
    const text = t(key, { seen: fmt.percent(Math.round((presence ?? 0) * 1000) / 10) });
    return h('li', { text: text === key ? code : text });
  });
  for (const f of flags) items.push(h('li', { class: 'tr-flag', text: flagLine(f, { studentId, names }) }));
  if (override) {
    if (decided) items.push(h('li', { text: t('records.decided', { status: t(`records.status.${decided}`) }) }));
    items.push(h('li', { class: 'tr-override', text: overrideText(override, timeZone) }));
  }
  return items.length ? h('ul', { class: 'tr-reasons' }, items) : '—';
}
