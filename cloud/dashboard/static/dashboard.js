/* global document, Option, location, history */
// The teacher dashboard: log in, pick a course, then the live panel, trend chart, per-student
// table (under-minimum rows marked in text, not only in colour), CSV download and the excuse
// form. All text from the server goes in through textContent, never as HTML.
import { ApiError, api, auth, downloadCsv, exchangeSignInCode, institutionSignIn, login, query, whenUnauthorized } from './dashboard-api.js';
import { followLive } from './dashboard-live.js';
import { renderTrendChart } from './trend-chart.js';

const $ = (id) => document.getElementById(id);
const state = { course: null, courses: [], students: [], timezone: 'UTC', stopLive: null };

function cell(row, text, tag = 'td') {
  const c = document.createElement(tag);
  c.textContent = text;
  row.append(c);
  return c;
}
const pct = (p) => (p === null ? '—' : `${p} %`);
const when = (iso) => new Intl.DateTimeFormat(undefined, { timeZone: state.timezone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
const message = (e) => (e instanceof ApiError ? e.message : 'the server could not be reached');

function showLogin(text = '') {
  state.stopLive?.();
  auth.token = null;
  $('app').hidden = true;
  $('logout').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = text;
}
whenUnauthorized(() => showLogin('Your session has ended. Please log in again.'));

function renderLive(snap) {
  const box = $('live');
  box.removeAttribute('aria-busy');
  state.timezone = snap.timezone;
  box.replaceChildren();
  if (!snap.sessions.length) {
    cell(box, 'No session of this course is running.', 'p');
    return;
  }
  for (const s of snap.sessions) {
    const head = cell(box, `${s.room_name} · started ${when(s.started_at)}`, 'p');
    head.className = 'muted';
    const grid = document.createElement('dl');
    grid.className = 'live-grid';
    for (const [name, value] of [['Checked in', `${s.checked_in} of ${s.enrolled}`], ['Present', s.present], ['Late', s.late], ['Absent so far', s.absent], ['Excused', s.excused]]) {
      const item = document.createElement('div');
      item.dataset.metric = name;
      cell(item, name, 'dt');
      cell(item, String(value), 'dd');
      grid.append(item);
    }
    box.append(grid);
  }
}

async function loadTrends(range = {}) {
  const body = await api(`/api/v1/teacher/analytics/attendance_trends?${query({ course_id: state.course.id, bucket: $('trend-bucket').value, ...range })}`);
  $('trend-from').value = body.from;
  $('trend-to').value = body.to;
  $('trend-caption').textContent = renderTrendChart($('trend-chart'), body.items, state.course.policy?.min_attendance_percent);
  const tbody = $('trend-table').tBodies[0];
  tbody.replaceChildren();
  for (const b of body.items) {
    const tr = tbody.insertRow();
    cell(tr, b.start === b.end ? b.start : `${b.start} – ${b.end}`, 'th').scope = 'row';
    if (!b.has_session) {
      cell(tr, 'no session').colSpan = 6;
      continue;
    }
    for (const v of [b.sessions, b.present, b.late, b.absent, b.excused]) cell(tr, String(v));
    cell(tr, pct(b.attendance_rate));
  }
}

function percentagePath(format) {
  const period = $('period').value;
  return `/api/v1/teacher/analytics/attendance_percentage?${query({ course_id: state.course.id, period, month: period === 'month' ? $('month').value : undefined, format })}`;
}

async function loadStudents() {
  const body = await api(percentagePath());
  state.timezone = body.timezone;
  state.students = body.items;
  const below = body.items.filter((s) => s.below_minimum).length;
  $('students-summary').textContent = `${body.from} to ${body.to}: ${body.sessions_held} sessions held · minimum ${body.min_attendance_percent} % · ${below} of ${body.items.length} students below it`;
  const tbody = $('students').tBodies[0];
  tbody.replaceChildren();
  for (const s of body.items) {
    const tr = tbody.insertRow();
    tr.dataset.studentId = s.student_id;
    if (s.below_minimum) tr.className = 'below';
    const name = cell(tr, s.full_name, 'th');
    name.scope = 'row';
    if (s.below_minimum) {
      const badge = cell(name, 'below minimum', 'span');
      badge.className = 'badge';
    }
    const email = cell(name, s.email, 'div');
    email.className = 'muted';
    for (const v of [s.sessions_held, s.present, s.late, s.absent, s.excused]) cell(tr, String(v));
    cell(tr, pct(s.percentage)).dataset.col = 'percentage';
  }
  const pick = $('excuse-student');
  const chosen = pick.value;
  pick.replaceChildren(...body.items.map((s) => new Option(`${s.full_name} (${s.email})`, s.student_id)));
  if (chosen) pick.value = chosen;
}

async function loadSessions() {
  const body = await api(`/api/v1/teacher/sessions?${query({ course_id: state.course.id, limit: 100 })}`);
  $('excuse-session').replaceChildren(...body.items.map((s) => new Option(`${when(s.started_at)}${s.state === 'live' ? ' (live)' : ''}`, s.session_id)));
}

async function selectCourse(courseId) {
  state.course = state.courses.find((c) => c.id === courseId);
  state.stopLive?.();
  $('live').replaceChildren(cell(document.createDocumentFragment(), 'Connecting…', 'p'));
  state.stopLive = followLive(state.course.id, {
    onSnapshot: renderLive,
    onState: (s) => s === 'reconnecting' && $('live').setAttribute('aria-busy', 'true'),
  });
  $('period').value = state.course.term_id ? 'semester' : 'month';
  $('month-label').hidden = $('period').value !== 'month';
  await loadStudents();
  await Promise.all([loadTrends(), loadSessions()]);
}

async function start() {
  const me = await api('/api/v1/auth/me');
  if (me.role !== 'teacher' && me.role !== 'admin') return showLogin('This page is for teachers.');
  $('who').textContent = `${me.full_name} (${me.email})`;
  $('login').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('logout').hidden = false;
  state.courses = (await api('/api/v1/teacher/courses')).items;
  $('course').replaceChildren(...state.courses.map((c) => new Option(`${c.code} — ${c.name}`, c.id)));
  if (!state.courses.length) return void ($('live').textContent = 'You have no courses yet.');
  await selectCourse(state.courses[0].id);
}

function guard(fn, where) {
  return async (event) => {
    event?.preventDefault?.();
    try {
      await fn(event);
    } catch (e) {
      where.textContent = `Failed: ${message(e)}`;
    }
  };
}

$('login-form').addEventListener('submit', guard(async () => {
  $('login-error').textContent = '';
  await login($('email').value.trim(), $('password').value);
  $('password').value = '';
  await start();
}, $('login-error')));
$('logout').addEventListener('click', () => showLogin());
$('course').addEventListener('change', guard(() => selectCourse($('course').value), $('students-summary')));
$('period').addEventListener('change', () => ($('month-label').hidden = $('period').value !== 'month'));
$('period-form').addEventListener('submit', guard(loadStudents, $('students-summary')));
$('trend-form').addEventListener('submit', guard(() => loadTrends({ from: $('trend-from').value, to: $('trend-to').value }), $('trend-caption')));
$('csv').addEventListener('click', guard(() => downloadCsv(percentagePath('csv')), $('students-summary')));
$('excuse-form').addEventListener('submit', guard(async () => {
  const status = $('excuse-status');
  const student = state.students.find((s) => s.student_id === $('excuse-student').value);
  const session = $('excuse-session').selectedOptions[0];
  if (!student || !session) throw new ApiError(0, 'incomplete', 'pick a session and a student');
  await api(`/api/v1/teacher/session/${encodeURIComponent(session.value)}/attendance/${encodeURIComponent(student.student_id)}`, {
    method: 'PUT', body: { status: 'excused', reason: $('excuse-reason').value.trim() },
  });
  status.textContent = `${student.full_name} is marked excused for ${session.textContent}.`;
  $('excuse-reason').value = '';
  await loadStudents();
  await loadTrends({ from: $('trend-from').value, to: $('trend-to').value });
}, $('excuse-status')));

// Back from the institution's sign-in: the one-time code is in the fragment (never sent to a
// server); it is dropped from the address bar and exchanged for the token.
const signInCode = /^#oidc_code=([\w-]+)$/.exec(location.hash)?.[1];
if (signInCode) history.replaceState(null, '', location.pathname + location.search);
institutionSignIn().then((s) => {
  if (!s.enabled) return;
  $('oidc-login').textContent = `Sign in with ${s.name}`;
  $('oidc').hidden = false;
}).catch(() => {});

if (signInCode) exchangeSignInCode(signInCode).then(start).catch((e) => showLogin(message(e)));
else if (auth.token) start().catch((e) => showLogin(message(e)));
else showLogin();
