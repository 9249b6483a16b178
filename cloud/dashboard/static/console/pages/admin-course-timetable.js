// Administration: a course's weekly timetable (weekday, start, end, room): add a slot, change
// one and delete one after a confirmation.
import { api } from '/dashboard/dashboard-api.js';
import { h, announce, attempt, select, table } from '../dom.js';
import { t } from '../i18n.js';
import { confirmAction, fieldErrors, labelled } from '../forms.js';

// Monday first, as timetables are read; the API counts 0 = Sunday.
const WEEKDAYS = [1, 2, 3, 4, 5, 6, 0];
const day = (n) => t(`courses.timetable.day.${n}`);

export async function timetableSection(course) {
  const base = `/api/v1/admin/courses/${encodeURIComponent(course.id)}/timetable`;
  const [{ items: rooms }, first] = await Promise.all([api('/api/v1/admin/rooms'), api(base)]);
  const roomName = new Map(rooms.map((r) => [r.id, r.name]));
  let slots = first.items;
  let editing = null;

  const listBox = h('div');
  const listAlert = h('p', { class: 'error', attrs: { role: 'alert' } });
  const weekday = select(WEEKDAYS.map((d) => [String(d), day(d)]), { name: 'weekday' });
  const start = h('input', { name: 'start', type: 'time', required: true });
  const end = h('input', { name: 'end', type: 'time', required: true });
  const room = select([['', t('courses.timetable.room_pick')], ...rooms.map((r) => [r.id, r.name])], { name: 'room' });
  const fields = {
    weekday: labelled(t('courses.timetable.weekday'), weekday),
    start: labelled(t('courses.timetable.start'), start, t('courses.timetable.time_hint', { tz: first.timezone })),
    end: labelled(t('courses.timetable.end'), end),
    room_id: labelled(t('courses.timetable.room'), room),
  };
  const errors = fieldErrors(fields);
  const alert = h('p', { class: 'error', attrs: { role: 'alert' } });
  const formTitle = h('h3', { id: 'course-slot-h', text: t('courses.timetable.add_title') });
  const submit = h('button', { type: 'submit', text: t('courses.timetable.add') });
  const cancel = h('button', { type: 'button', class: 'secondary', hidden: true, text: t('courses.timetable.cancel_edit'), on: { click: () => setEditing(null) } });
  const noRooms = rooms.length ? null : h('p', { class: 'muted' }, t('courses.timetable.no_rooms'), ' ', h('a', { href: '#/admin/rooms', text: t('courses.timetable.no_rooms_link') }));
  const form = h('form', { noValidate: true, class: 'courses-form courses-slot', attrs: { 'aria-labelledby': 'course-slot-h' } },
    Object.values(fields).map(([wrap]) => wrap), h('div', { class: 'actions' }, submit, cancel), alert);

  function setEditing(slot) {
    editing = slot;
    errors.clear();
    alert.textContent = '';
    weekday.value = String(slot?.weekday ?? 1);
    start.value = slot?.start ?? '';
    end.value = slot?.end ?? '';
    room.value = slot?.room_id ?? '';
    formTitle.textContent = slot ? t('courses.timetable.edit_title', { day: day(slot.weekday), start: slot.start, end: slot.end }) : t('courses.timetable.add_title');
    submit.textContent = slot ? t('courses.timetable.save') : t('courses.timetable.add');
    cancel.hidden = !slot;
    if (slot) weekday.focus();
  }

  const order = (a, b) => WEEKDAYS.indexOf(a.weekday) - WEEKDAYS.indexOf(b.weekday) || a.start.localeCompare(b.start);
  function show() {
    listBox.replaceChildren(table({
      caption: t('courses.timetable.caption', { code: course.code }),
      empty: t('courses.timetable.empty'),
      rows: [...slots].sort(order),
      columns: [
        { label: t('courses.timetable.weekday'), header: true, cell: (s) => day(s.weekday) },
        { label: t('courses.timetable.start'), cell: (s) => s.start },
        { label: t('courses.timetable.end'), cell: (s) => s.end },
        { label: t('courses.timetable.room'), cell: (s) => roomName.get(s.room_id) ?? '—' },
        { label: t('common.actions'), cell: (s) => {
          const what = ` ${day(s.weekday)} ${s.start}`;
          return h('div', { class: 'actions' },
            h('button', { type: 'button', class: 'small secondary courses-action', on: { click: () => setEditing(s) } }, t('courses.timetable.edit'), h('span', { class: 'visually-hidden', text: what })),
            h('button', { type: 'button', class: 'small danger courses-action', on: { click: (e) => remove(s, e.currentTarget) } }, t('courses.timetable.delete'), h('span', { class: 'visually-hidden', text: what })));
        } },
      ],
    }));
  }

  async function remove(slot, button) {
    const when = t('courses.timetable.when', { day: day(slot.weekday), start: slot.start, end: slot.end });
    const { confirmed: yes } = await confirmAction({ title: t('courses.timetable.delete_title'), text: t('courses.timetable.delete_text', { when, room: roomName.get(slot.room_id) ?? '—' }), confirm: t('courses.timetable.delete_confirm') });
    if (!yes) return;
    const ok = await attempt(button, listAlert, () => api(`${base}/${encodeURIComponent(slot.id)}`, { method: 'DELETE' }));
    if (!ok) return;
    slots = slots.filter((s) => s.id !== slot.id);
    if (editing?.id === slot.id) setEditing(null);
    show();
    heading.focus(); // the deleted row's buttons are gone
    announce(t('courses.timetable.deleted', { when }));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const slot = { weekday: Number(weekday.value), start: start.value, end: end.value, room_id: room.value || undefined };
    const wasEditing = editing;
    const ok = await errors.run(submit, alert, async () => {
      if (wasEditing) {
        const changed = await api(`${base}/${encodeURIComponent(wasEditing.id)}`, { method: 'PUT', body: slot });
        slots = slots.map((s) => (s.id === changed.id ? changed : s));
      } else {
        slots = [...slots, await api(base, { method: 'POST', body: slot })];
      }
    });
    if (!ok) return;
    const when = t('courses.timetable.when', { day: day(slot.weekday), start: slot.start, end: slot.end });
    setEditing(null);
    show();
    announce(t(wasEditing ? 'courses.timetable.updated' : 'courses.timetable.added', { when }));
  });

  const heading = h('h2', { id: 'course-timetable-h', tabIndex: -1, text: t('courses.timetable.title') });
  show();
  return h('section', { class: 'card courses-card', attrs: { 'aria-labelledby': 'course-timetable-h' } },
    heading,
    listBox, listAlert, formTitle, noRooms, form);
}
