// Teacher: past sessions. The list of a course's sessions with their counts, and one session's
// attendance (status, the rules' reasons, windows seen and witnessed, relay checks) where the
// teacher sets a student's status by hand with a reason (audited), shown with who set it and why.
import { api } from '/dashboard/dashboard-api.js';
import { h, field, select, table, attempt, uid } from '../dom.js';
import { fmt, t } from '../i18n.js';
import { countsList, countsOf } from './teacher-session-roster.js';
import { courseForm, reasonList, statusCell, courseOfRoute } from './teacher-records-shared.js';

const STATUSES = ['excused', 'late', 'present', 'absent'];
const countsOfCourse = (courseId) => api(`/api/v1/teacher/analytics/session_counts?course_id=${encodeURIComponent(courseId)}`);

async function renderList(main, ctx) {
  main.append(h('h1', { text: t('records.sessions.title') }));
  const chosen = await courseOfRoute(main, ctx, t('records.no_courses'));
  if (!chosen) return;
  const { courses, course } = chosen;
  main.append(courseForm(courses, course.id, (id) => ctx.navigate('teacher/sessions', { course: id })));
  const [{ items }, counted] = await Promise.all([api(`/api/v1/teacher/sessions?course_id=${encodeURIComponent(course.id)}&limit=500`), countsOfCourse(course.id)]);
  const countOf = new Map(counted.items.map((c) => [c.session_id, c]));
  const count = (key) => (s) => (countOf.has(s.session_id) ? fmt.number(countOf.get(s.session_id)[key]) : '—');
  main.append(h('section', { class: 'card' }, table({
    caption: t('records.sessions.caption', { code: course.code }),
    empty: t('records.sessions.empty'),
    rows: items,
    columns: [
      { label: t('records.sessions.started'), header: true, cell: (s) => h('a', { href: `#/teacher/sessions?id=${s.session_id}`, text: fmt.dateTime(s.started_at, counted.timezone) }) },
      { label: t('records.sessions.room'), cell: (s) => countOf.get(s.session_id)?.room_name ?? String(s.room_code ?? '—') },
      { label: t('records.sessions.state'), cell: (s) => t(`records.sessions.state.${s.state}`) },
      ...['present', 'late', 'absent', 'excused', 'witnessed'].map((key) => ({ label: t(`records.count.${key}`), cell: count(key) })),
    ],
  })));
}

/** The dialog that sets one student's status: a status, a required reason, save or cancel; `onDone` runs once it has closed after a save. */
function overrideDialog(onSave, onDone) {
  const titleId = uid('dlg');
  const title = h('h2', { id: titleId });
  const current = h('p');
  const status = select(STATUSES.map((s) => [s, t(`records.status.${s}`)]), { name: 'status' });
  const reason = h('textarea', { name: 'reason', rows: 3, maxLength: 500, required: true });
  const error = h('p', { id: uid('err'), class: 'error', attrs: { role: 'alert' } });
  const save = h('button', { type: 'submit', text: t('records.dialog.save') });
  const cancel = h('button', { type: 'button', class: 'secondary', text: t('common.cancel') });
  const form = h('form', { noValidate: true }, current, field(t('records.dialog.status'), status), field(t('records.dialog.reason'), reason, { hint: t('records.dialog.reason_hint') }), error, h('div', { class: 'actions' }, save, cancel));
  // The reason's error is read with it, after its hint.
  reason.setAttribute('aria-describedby', `${reason.getAttribute('aria-describedby')} ${error.id}`);
  const dialog = h('dialog', { class: 'dialog', attrs: { 'aria-labelledby': titleId } }, title, form);
  let student = null;
  cancel.addEventListener('click', () => dialog.close());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (reason.value.trim().length < 3) {
      error.textContent = t('records.dialog.reason_required');
      reason.setAttribute('aria-invalid', 'true');
      reason.focus();
      return;
    }
    reason.removeAttribute('aria-invalid');
    const ok = await attempt(save, error, () => onSave(student, status.value, reason.value.trim()));
    if (!ok) return;
    // Closing gives the focus back to the opening button; the table was redrawn meanwhile.
    dialog.close();
    onDone(student);
  });
  return {
    dialog,
    open(item) {
      student = item;
      title.textContent = t('records.dialog.title', { name: item.full_name });
      current.textContent = t('records.dialog.current', { status: t(`records.status.${item.status}`) });
      status.value = item.status === 'excused' ? 'present' : 'excused';
      reason.value = '';
      reason.removeAttribute('aria-invalid');
      error.textContent = '';
      dialog.showModal();
    },
  };
}

async function renderSession(main, ctx, sessionId) {
  const base = `/api/v1/teacher/session/${encodeURIComponent(sessionId)}`;
  const load = () => Promise.all([api(`${base}/attendance`), api(`${base}/overrides`)]);
  let [attendance, overrides] = await load();
  const { session } = attendance;
  const counted = await countsOfCourse(session.course_id);
  const tz = counted.timezone;
  const when = fmt.dateTime(session.started_at, tz);
  const title = t('records.session.title', { code: counted.course.code, when });
  ctx.setTitle(title);
  const room = counted.items.find((c) => c.session_id === session.session_id)?.room_name ?? t('records.session.room', { room: session.room_code ?? '—' });
  main.append(
    h('h1', { text: title }),
    h('p', {}, h('a', { href: `#/teacher/sessions?course=${session.course_id}`, text: t('records.session.back', { code: counted.course.code }) })),
  );
  const done = h('p', { class: 'ok', attrs: { role: 'status' } });
  const countsBox = h('div');
  const tableBox = h('div');
  const dialog = overrideDialog(async (item, status, reason) => {
    await api(`${base}/attendance/${encodeURIComponent(item.student_id)}`, { method: 'PUT', body: { status, reason } });
    [attendance, overrides] = await load();
    show();
    done.textContent = t('records.changed', { name: item.full_name, status: t(`records.status.${status}`) });
  }, (item) => tableBox.querySelector(`button[data-student="${item.student_id}"]`)?.focus());

  function show() {
    const named = new Map(overrides.items.map((o) => [o.student_id, o]));
    const rows = attendance.items.map((i) => ({ ...i, override: named.get(i.student_id)?.override ?? null, decided_status: named.get(i.student_id)?.decided_status }));
    const names = new Map(rows.map((i) => [i.student_id, i.full_name]));
    countsBox.replaceChildren(countsList(countsOf(rows), session.state === 'live'));
    tableBox.replaceChildren(table({
      caption: t('records.session.caption'),
      empty: t('records.session.empty'),
      rows,
      columns: [
        { label: t('records.session.student'), header: true, cell: (i) => h('span', {}, i.full_name, h('br'), h('span', { class: 'muted', text: i.email })) },
        { label: t('records.session.status'), cell: (i) => statusCell(i.status, i.override) },
        { label: t('records.session.windows'), cell: (i) => t('records.session.of', { n: fmt.number(i.windows_seen), total: fmt.number(i.windows_total) }) },
        { label: t('records.session.witnessed'), cell: (i) => fmt.number(i.witnessed_windows) },
        { label: t('records.session.why'), class: 'wrap', cell: (i) => reasonList(i, tz, names) },
        {
          label: t('common.actions'),
          cell: (i) => h('button', { type: 'button', class: 'secondary small', text: t('records.session.change_short'), attrs: { 'aria-label': t('records.session.change', { name: i.full_name }), 'data-student': i.student_id }, on: { click: () => dialog.open(i) } }),
        },
      ],
    }));
  }
  show();
  main.append(h('section', { class: 'card' },
    h('dl', { class: 'facts' },
      h('dt', { text: t('records.sessions.room') }), h('dd', { text: room }),
      h('dt', { text: t('records.sessions.started') }), h('dd', { text: when }),
      h('dt', { text: t('records.session.ended_at') }), h('dd', { text: session.ended_at ? fmt.dateTime(session.ended_at, tz) : t('records.sessions.state.live') })),
    session.state === 'live' ? h('p', { class: 'muted', text: t('records.session.live') }) : null,
    countsBox, done, tableBox), dialog.dialog);
}

export async function render(main, ctx) {
  const id = ctx.query.get('id');
  if (id) await renderSession(main, ctx, id);
  else await renderList(main, ctx);
}
