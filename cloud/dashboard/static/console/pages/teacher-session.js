/* global history, AbortController, setTimeout, clearTimeout */
// #/teacher/session: pick a course, start a session in the room its timetable gives for now (or
// next), see the gateway's confirmation, watch the live roster fill as phones check in, end the
// session (confirmed in a dialog). A live session of the course is picked up when the page opens.
import { api, query } from '/dashboard/dashboard-api.js';
import { followLive } from '/dashboard/dashboard-live.js';
import { h, announce, attempt, errorText, field, select } from '../dom.js';
import { fmt, language, t } from '../i18n.js';
import { countsList, countsOf, gatewayText, rosterTable } from './teacher-session-roster.js';
import { confirmAction } from '../forms.js';

const GATEWAY_POLL_MS = 3000;
const LIVE_SCAN_MAX = 20;
/**
 * The event stream pushes at once when a phone submits over HTTP; a check-in the room's gateway
 * witnessed reaches the stream only with its periodic refresh, so the roster is also read again
 * when it has not been for this long.
 */
const ROSTER_POLL_MS = 4000;

const wait = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

const weekday = (n) => new Intl.DateTimeFormat(language(), { weekday: 'long', timeZone: 'UTC' }).format(Date.UTC(2024, 0, 7 + n));
const courseName = (c) => `${c.code} — ${c.name}`;

async function liveSessionOf(courseId) {
  const { items } = await api(`/api/v1/teacher/sessions?${query({ course_id: courseId, limit: 5 })}`);
  return items.find((s) => s.state === 'live') ?? null;
}

export async function render(main, ctx) {
  main.append(h('h1', { text: t('teacherSession.title') }));
  const [{ items: courses }, { items: rooms }] = await Promise.all([api('/api/v1/teacher/courses'), api('/api/v1/teacher/rooms')]);
  if (!courses.length) {
    main.append(h('p', { class: 'muted', text: t('teacherSession.no_courses') }));
    return;
  }
  const roomNames = new Map(rooms.map((r) => [r.id, r.name]));
  let courseId = courses.some((c) => c.id === ctx.query.get('course')) ? ctx.query.get('course') : null;
  if (!courseId) {
    // A teacher's few courses are asked which one runs now; an admin's list of every course is not.
    const live = await Promise.all(courses.slice(0, LIVE_SCAN_MAX).map((c) => liveSessionOf(c.id).then((s) => (s ? c.id : null))));
    courseId = live.find(Boolean) ?? courses[0].id;
  }

  const picker = select(courses.map((c) => [c.id, courseName(c)]), { name: 'course', value: courseId });
  const panel = h('div', { class: 'ts-panel' });
  main.append(h('div', { class: 'card toolbar' }, field(t('common.course'), picker)), panel);

  let current = null;
  async function show(id) {
    current?.abort();
    const control = new AbortController();
    current = control;
    ctx.signal.addEventListener('abort', () => control.abort(), { once: true });
    const course = courses.find((c) => c.id === id);
    const view = { ctx, course, rooms, roomNames, panel, signal: control.signal, restart: () => show(id) };
    panel.replaceChildren(h('p', { attrs: { 'aria-busy': 'true' }, text: t('app.loading') }));
    try {
      const [session, timetable] = await Promise.all([liveSessionOf(id), api(`/api/v1/teacher/courses/${id}/timetable`)]);
      if (control.signal.aborted) return;
      view.timezone = timetable.timezone;
      if (session) showLive(view, session);
      else showStartForm(view, timetable);
    } catch (e) {
      if (!control.signal.aborted) panel.replaceChildren(h('p', { class: 'error', attrs: { role: 'alert' }, text: errorText(e) }));
    }
  }
  picker.addEventListener('change', () => {
    history.replaceState(null, '', `#/teacher/session?${query({ course: picker.value })}`);
    show(picker.value);
  });
  await show(courseId);
}

function roomLabel(r) {
  return `${r.name} — ${t(`teacherSession.room_gateway.${r.gateway ?? 'none'}`)}`;
}

function showStartForm(view, timetable) {
  const { course, rooms, panel } = view;
  const slot = timetable.items.find((s) => s.id === timetable.suggested?.slot_id);
  const room = select([['', t('teacherSession.choose_room')], ...rooms.map((r) => [r.id, roomLabel(r)])], { name: 'room', value: slot?.room_id ?? '' });
  const hint = slot
    ? t(`teacherSession.timetable.${timetable.suggested.when}`, { day: weekday(slot.weekday), start: slot.start, end: slot.end, room: slot.room_name })
    : t('teacherSession.timetable.none');
  const error = h('p', { class: 'error', attrs: { role: 'alert' } });
  const submit = h('button', { type: 'submit', text: t('teacherSession.start') });
  const form = h('form', { noValidate: true }, field(t('teacherSession.room'), room, { hint }), submit, error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!room.value) {
      error.textContent = t('teacherSession.room_required');
      room.setAttribute('aria-invalid', 'true');
      room.focus();
      return;
    }
    room.removeAttribute('aria-invalid');
    const body = { course_id: course.id, room_id: room.value };
    if (slot?.period_s && slot.room_id === room.value) body.period_s = slot.period_s;
    let started;
    const ok = await attempt(submit, error, async () => {
      started = await api('/api/v1/teacher/session/start', { method: 'POST', body });
    });
    if (!ok || view.signal.aborted) return;
    announce(t('teacherSession.started', { room: view.roomNames.get(started.room_id) ?? '' }));
    showLive(view, started, { ack: started.gateway, focus: true });
  });
  panel.replaceChildren(h('section', { class: 'card', attrs: { 'aria-labelledby': 'ts-start-h' } },
    h('h2', { id: 'ts-start-h', text: t('teacherSession.start_title', { course: courseName(course) }) }), form));
}

/** Shows the gateway's answer in `out`; while it may still change, asks again until it settles. */
async function followGateway(signal, session, out, command, first) {
  let answer = first === undefined ? null : { command, ack: first };
  for (;;) {
    if (!answer) {
      try {
        answer = await api(`/api/v1/teacher/session/${session.session_id}/gateway`);
      } catch (e) {
        if (!signal.aborted) out.textContent = errorText(e);
        return;
      }
    }
    if (signal.aborted) return;
    const said = gatewayText(answer.ack, answer.command, session);
    out.textContent = said.text;
    out.className = `ts-gateway ts-${said.tone}`;
    if (said.settled) return;
    await wait(GATEWAY_POLL_MS, signal);
    if (signal.aborted) return;
    answer = null;
  }
}

function showLive(view, session, { ack, focus = false } = {}) {
  const { course, panel, timezone } = view;
  // The stream and the gateway's follow-up stop when the session ends here or the page is left.
  const live = new AbortController();
  view.signal.addEventListener('abort', () => live.abort(), { once: true });
  view.stopLive = () => live.abort();
  const signal = live.signal;
  const heading = h('h2', { id: 'ts-live-h', tabIndex: -1, text: t('teacherSession.live_title', { course: courseName(course) }) });
  const gateway = h('p', { class: 'ts-gateway', attrs: { role: 'status' } });
  const link = h('p', { class: 'muted', attrs: { role: 'status' }, text: t('teacherSession.connecting') });
  const counts = h('div');
  const roster = h('div');
  const problem = h('p', { class: 'error', attrs: { role: 'alert' } });
  const end = h('button', { type: 'button', class: 'danger', text: t('teacherSession.end') });
  const facts = h('dl', { class: 'facts' },
    h('dt', { text: t('teacherSession.room') }), h('dd', { text: view.roomNames.get(session.room_id) ?? '—' }),
    h('dt', { text: t('teacherSession.started_at') }), h('dd', { text: fmt.dateTime(session.started_at, timezone) }),
    h('dt', { text: t('teacherSession.gateway') }), h('dd', {}, gateway));
  panel.replaceChildren(h('section', { class: 'card', attrs: { 'aria-labelledby': 'ts-live-h' } },
    heading, facts, link, counts, h('div', { class: 'actions' }, end), problem,
    h('h3', { text: t('teacherSession.roster.title') }), roster));
  if (focus) heading.focus();
  followGateway(signal, session, gateway, 'session.start', ack);

  let latest = [];
  let lastRead = 0;
  let loading = null;
  let again = false;
  async function refresh() {
    if (loading) return void (again = true);
    loading = (async () => {
      lastRead = Date.now();
      try {
        const answer = await api(`/api/v1/teacher/session/${session.session_id}/attendance`);
        if (signal.aborted) return;
        problem.textContent = '';
        if (answer.session.state !== 'live') {
          announce(t('teacherSession.ended_elsewhere'));
          return void showEnded(view, answer.session, { items: answer.items });
        }
        latest = answer.items;
        counts.replaceChildren(countsList(countsOf(latest), true));
        roster.replaceChildren(rosterTable(latest, { caption: t('teacherSession.roster.caption_live'), timezone, rooms: view.roomNames }));
      } catch (e) {
        if (!signal.aborted) problem.textContent = errorText(e);
      }
    })();
    await loading;
    loading = null;
    if (again && !signal.aborted) {
      again = false;
      await refresh();
    }
  }
  const stop = followLive(course.id, {
    onSnapshot: () => refresh(),
    onState: (s) => {
      if (signal.aborted) return;
      link.textContent = t(s === 'open' ? 'teacherSession.updating' : s === 'reconnecting' ? 'teacherSession.reconnecting' : 'teacherSession.not_updating');
    },
  });
  signal.addEventListener('abort', stop, { once: true });
  refresh();
  (async () => {
    while (!signal.aborted) {
      await wait(ROSTER_POLL_MS, signal);
      if (!signal.aborted && Date.now() - lastRead >= ROSTER_POLL_MS - 500) await refresh();
    }
  })();

  end.addEventListener('click', () => confirmEnd(view, signal, session, countsOf(latest), problem));
}

async function confirmEnd(view, signal, session, counts, problem) {
  const endSession = async () => {
    try {
      return { ended: await api(`/api/v1/teacher/session/${session.session_id}/end`, { method: 'POST', body: {} }) };
    } catch (e) {
      // Ended meanwhile (by the room's gateway, or in another tab): show how it ended instead.
      if (e.code === 'session_not_live') return { endedElsewhere: true };
      throw e;
    }
  };
  // Leaving the page (the browser's back button) or the session ending elsewhere takes the dialog with it.
  const { confirmed, result } = await confirmAction({
    title: t('teacherSession.end_title'),
    text: t('teacherSession.end_text', { missing: fmt.number(counts.enrolled - counts.checked_in), enrolled: fmt.number(counts.enrolled) }),
    confirm: t('teacherSession.end_confirm'),
    action: endSession,
    signal,
  });
  if (!confirmed || view.signal.aborted) return;
  if (result.endedElsewhere) {
    const answer = await api(`/api/v1/teacher/session/${session.session_id}/attendance`).catch(() => null);
    if (view.signal.aborted) return;
    return answer ? showEnded(view, answer.session, { items: answer.items, focus: true }) : view.restart();
  }
  problem.textContent = '';
  announce(t('teacherSession.ended_announce'));
  showEnded(view, result.ended, { ack: result.ended.gateway, focus: true });
}

async function showEnded(view, session, { ack, items, focus = false }) {
  const { course, panel, signal, timezone } = view;
  view.stopLive?.();
  const heading = h('h2', { id: 'ts-ended-h', tabIndex: -1, text: t('teacherSession.ended_title', { course: courseName(course) }) });
  const gateway = h('p', { class: 'ts-gateway', attrs: { role: 'status' } });
  const roster = h('div');
  const again = h('button', { type: 'button', text: t('teacherSession.start_another'), on: { click: () => view.restart() } });
  panel.replaceChildren(h('section', { class: 'card', attrs: { 'aria-labelledby': 'ts-ended-h' } },
    heading,
    h('dl', { class: 'facts' },
      h('dt', { text: t('teacherSession.room') }), h('dd', { text: view.roomNames.get(session.room_id) ?? '—' }),
      h('dt', { text: t('teacherSession.ended_at') }), h('dd', { text: session.ended_at ? fmt.dateTime(session.ended_at, timezone) : '—' }),
      h('dt', { text: t('teacherSession.gateway') }), h('dd', {}, gateway)),
    roster,
    h('div', { class: 'actions' }, again, h('a', { class: 'button secondary', href: `#/teacher/sessions?${query({ id: session.session_id })}`, text: t('teacherSession.see_past') }))));
  if (focus) heading.focus();
  followGateway(signal, session, gateway, 'session.end', ack);
  try {
    const list = items ?? (await api(`/api/v1/teacher/session/${session.session_id}/attendance`)).items;
    if (signal.aborted) return;
    roster.replaceChildren(countsList(countsOf(list), false), rosterTable(list, { caption: t('teacherSession.roster.caption_ended'), timezone, rooms: view.roomNames }));
  } catch (e) {
    if (!signal.aborted) roster.replaceChildren(h('p', { class: 'error', attrs: { role: 'alert' }, text: errorText(e) }));
  }
}
