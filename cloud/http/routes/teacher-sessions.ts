/** /api/v1/teacher: a teacher's courses and sessions (start, end, token, live summary, attendance, overrides). */
import { z } from 'zod';
import { DEFAULT_PERIOD_S, MAX_PERIOD_S, MIN_PERIOD_S, deriveSessionKey, tokenForWindow, windowEndMs, windowIndex } from '../../../shared/token.js';
import { encodeFrame } from '../../../shared/frame.js';
import { HttpError, conflict, notFound } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { RoomBusyError } from '../../store/sessions.js';
import type { Principal } from '../../auth/jwt.js';
import { computeAttendance, type AttendanceEntry } from '../../store/attendance.js';
import { relayFlags } from '../../domain/relay-flags.js';
import { SessionLifecycle } from '../../services/session-lifecycle.js';
import { courseForTeacher, sessionForTeacher } from '../ownership.js';
import { attendanceView, countByStatus, iso, sessionView } from '../views.js';
import { courseOut, courseView } from './admin-courses.js';
import { id, idParams } from '../schemas.js';
import { gatewayAckOut } from './gateways.js';
import { zoneOffsetMs } from '../../domain/analytics-calendar.js';
import type { CourseSlot, Gateway, GatewayCommand, Session } from '../../store/schema.js';

const TEACHER = ['teacher', 'admin'] as const;
const hex = z.string().regex(/^[0-9a-f]*$/);

export const sessionOut = z.object({
  session_id: id, course_id: id, room_id: id, room_code: z.number().int().nullable(), started_at: z.string(), ended_at: z.string().nullable(),
  period_s: z.number().int(), state: z.enum(['live', 'ended']), source: z.string(),
});
const counts = z.object({ enrolled: z.number().int(), present: z.number().int(), late: z.number().int(), absent: z.number().int(), excused: z.number().int() });
const status = z.enum(['present', 'late', 'absent', 'excused']);
export const attendanceOut = z.object({
  student_id: id, email: z.string(), full_name: z.string(), status, presence: z.number(), windows_seen: z.number().int(), windows_total: z.number().int(),
  witnessed_windows: z.number().int().describe("windows the room's gateway witnessed this student's phone in (proof of proximity)"),
  first_seen: z.string().nullable(), last_seen: z.string().nullable(), verified: z.boolean(), reasons: z.array(z.string()),
  override: z.object({ status, reason: z.string(), by: z.string(), at: z.string().nullable() }).nullable(), provisional: z.boolean(),
  flags: z.array(z.object({ kind: z.enum(['shared_peer', 'slow_checkin', 'two_rooms']), evidence: z.record(z.string(), z.unknown()) }))
    .describe('signs of a relay in the witnessed windows, for a person to look at; they change no status'),
});

const slotOut = z.object({ id, weekday: z.number().int().describe('0 = Sunday'), start: z.string(), end: z.string(), room_id: id, room_name: z.string(), period_s: z.number().int().nullable() });
const gatewayState = z.enum(['online', 'offline', 'never_connected']).nullable().describe("the room's gateway (null: the room has none)");

const WEEK_MIN = 7 * 24 * 60;
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * The slot running now in the institution's time zone, else the next one to start (within a
 * week): what the session page preselects the room from.
 */
export function suggestedSlot(slots: readonly CourseSlot[], nowMs: number, timeZone: string): { slot_id: string; when: 'now' | 'next' } | null {
  const local = new Date(nowMs + zoneOffsetMs(nowMs, timeZone));
  const now = local.getUTCDay() * 1440 + local.getUTCHours() * 60 + local.getUTCMinutes();
  const running = slots.find((s) => s.weekday * 1440 + minutes(s.start_time) <= now && now < s.weekday * 1440 + minutes(s.end_time));
  if (running) return { slot_id: running.id, when: 'now' };
  let best: { slot: CourseSlot; wait: number } | null = null;
  for (const s of slots) {
    const wait = (s.weekday * 1440 + minutes(s.start_time) - now + WEEK_MIN) % WEEK_MIN;
    if (!best || wait < best.wait) best = { slot: s, wait };
  }
  return best ? { slot_id: best.slot.id, when: 'next' } : null;
}

/** A stored session command as the start and end answers report it (cloud/bridge/hub.ts). */
function ackOf(cmd: GatewayCommand | undefined, gateway: Gateway | undefined): z.infer<typeof gatewayAckOut> {
  if (!cmd || !gateway) return { state: 'no_gateway', gateway_id: gateway?.id ?? null, command_id: cmd?.id ?? null };
  const base = { gateway_id: gateway.id, command_id: cmd.id };
  if (cmd.state === 'failed') return { state: 'failed', ...base, error: { code: cmd.error_code ?? 'failed', message: cmd.error_message ?? '' } };
  if (cmd.state === 'confirmed' || cmd.state === 'cancelled') return { state: cmd.state, ...base };
  return { state: gateway.state === 'online' ? 'pending' : 'queued', ...base };
}

export function teacherSessionRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store, clock, events, verifiedLookup } = deps;
  // Built on deps itself: the hub (deps.gateways) is read at each call.
  const lifecycle = new SessionLifecycle(deps);

  /** The records as the teacher sees them: each with the relay flags of its witnessed windows. */
  async function withFlags(session: Session, entries: AttendanceEntry[], now: number) {
    const own = await store.checkins.witnessedOf(session.id);
    const elsewhere = await store.checkins.witnessedElsewhere(session, [...new Set(own.map((r) => r.key_id))], now);
    const flags = relayFlags(session.period_s, own, elsewhere);
    return entries.map((e) => ({ ...attendanceView(e), flags: flags.get(e.student_id) ?? [] }));
  }

  /** The live session's id is shown to its own teacher and to admins; anyone else learns only that the room is busy. */
  async function busyRoomDetails(user: Principal, sessionId: string): Promise<{ session_id: string } | undefined> {
    if (!sessionId) return undefined; // it ended meanwhile
    if (user.role === 'admin') return { session_id: sessionId };
    const session = await store.sessions.get(sessionId);
    const course = session && (await store.courses.get(session.course_id));
    return course?.teacher_id === user.id ? { session_id: sessionId } : undefined;
  }

  routes.add(
    { method: 'get', path: '/api/v1/teacher/courses', tag: 'teacher', auth: TEACHER, summary: 'Courses I teach (admins: all)', response: z.object({ items: z.array(courseOut) }) },
    async ({ user }) => ({ items: (await store.courses.list(user.role === 'admin' ? {} : { teacherId: user.id })).map(courseView) }),
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/rooms', tag: 'teacher', auth: TEACHER, summary: 'Rooms a session can be started in, with the state of their gateway',
      response: z.object({ items: z.array(z.object({ id, name: z.string(), gateway: gatewayState })) }),
    },
    async () => {
      const gateways = new Map((await store.gateways.list({ includeRevoked: false })).map((g) => [g.room_id, g.state]));
      return { items: (await store.rooms.list()).map((r) => ({ id: r.id, name: r.name, gateway: gateways.get(r.id) ?? null })) };
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/courses/:id/timetable', tag: 'teacher', auth: TEACHER, summary: "My course's recurring slots, and the one now or next",
      description: "Times are local in the institution's time zone. `suggested` is the slot running now, else the next one to start (null without slots).",
      params: idParams, errors: [[403, 'forbidden'], [404, 'not_found']],
      response: z.object({ timezone: z.string(), items: z.array(slotOut), suggested: z.object({ slot_id: id, when: z.enum(['now', 'next']) }).nullable() }),
    },
    async ({ user, params }) => {
      const course = await courseForTeacher(store, user, params.id);
      const slots = await store.timetable.ofCourse(course.id);
      const rooms = new Map((await store.rooms.list()).map((r) => [r.id, r.name]));
      return {
        timezone: deps.settings.timezone,
        items: slots.map((s) => ({ id: s.id, weekday: s.weekday, start: s.start_time, end: s.end_time, room_id: s.room_id, room_name: rooms.get(s.room_id) ?? '', period_s: s.period_s })),
        suggested: suggestedSlot(slots, clock(), deps.settings.timezone),
      };
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/session/:id/gateway', tag: 'teacher', auth: TEACHER, summary: "Whether the room's gateway confirmed the session's start (or end)",
      description: 'The same report as the start and end answers give, read again later: the end command once the session has ended, else the start. `ack` is null when the cloud has no gateway link (MQTT disabled).',
      params: idParams, errors: [[403, 'forbidden'], [404, 'not_found']],
      response: z.object({ command: z.enum(['session.start', 'session.end']), ack: gatewayAckOut }),
    },
    async ({ user, params }) => {
      const { session } = await sessionForTeacher(store, user, params.id);
      const end = session.state === 'ended' ? await store.commands.forSession(session.id, 'session.end') : undefined;
      const cmd = end ?? (await store.commands.forSession(session.id, 'session.start'));
      const command = session.state === 'ended' ? 'session.end' : 'session.start';
      if (!deps.gateways) return { command, ack: null };
      if (session.source !== 'cloud' && !cmd) return { command, ack: { state: 'no_gateway', gateway_id: null, command_id: null } };
      return { command, ack: ackOf(cmd, await store.gateways.activeForRoom(session.room_id)) };
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/sessions', tag: 'teacher', auth: TEACHER, summary: "A course's sessions, newest first",
      query: z.object({ course_id: id, limit: z.coerce.number().int().min(1).max(500).default(50) }), response: z.object({ items: z.array(sessionOut) }),
      errors: [[403, 'forbidden'], [404, 'not_found']],
    },
    async ({ user, query }) => {
      const course = await courseForTeacher(store, user, query.course_id);
      return { items: (await store.sessions.ofCourse(course.id, query.limit)).map((r) => sessionView(r, r)) };
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/teacher/session/start', tag: 'teacher', auth: TEACHER, status: 201, summary: 'Start a session of my course in a room',
      description: `One live session per room. period_s is the token rotation period (${MIN_PERIOD_S}..${MAX_PERIOD_S}, default ${DEFAULT_PERIOD_S}).`,
      body: z.object({ course_id: id, room_id: id, period_s: z.number().int().min(MIN_PERIOD_S).max(MAX_PERIOD_S).default(DEFAULT_PERIOD_S) }),
      response: sessionOut.extend({ gateway: gatewayAckOut }), errors: [[403, 'forbidden'], [404, 'not_found'], [409, 'room_busy']],
    },
    async ({ user, body }) => {
      const course = await courseForTeacher(store, user, body.course_id);
      const room = await store.rooms.get(body.room_id);
      if (!room) throw notFound('room');
      try {
        const { session, gateway } = await lifecycle.start({ course, room, periodS: body.period_s, startedAt: clock(), source: 'cloud', startedBy: user.id });
        return { ...sessionView(session, room), gateway };
      } catch (e) {
        if (e instanceof RoomBusyError) throw conflict('room_busy', 'the room already has a live session', await busyRoomDetails(user, e.sessionId));
        throw e;
      }
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/teacher/session/:id/end', tag: 'teacher', auth: TEACHER, summary: 'End a live session and decide attendance',
      params: idParams, response: sessionOut.extend({ counts, gateway: gatewayAckOut }), errors: [[403, 'forbidden'], [404, 'not_found'], [409, 'session_not_live']],
    },
    async ({ user, params }) => {
      const { session, course } = await sessionForTeacher(store, user, params.id);
      if (session.state !== 'live') throw conflict('session_not_live', 'the session has already ended');
      const change = await lifecycle.end({ session, course, endedAt: clock(), actorId: user.id });
      if (!change) throw conflict('session_not_live', 'the session has already ended');
      const ended = change.session;
      const entries = await computeAttendance(store, ended, course, clock(), verifiedLookup);
      return { ...sessionView(ended, (await store.rooms.get(ended.room_id)) ?? null), counts: countByStatus(entries), gateway: change.gateway };
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/session/:id/token', tag: 'teacher', auth: TEACHER, summary: 'The token to advertise now (teacher phone as beacon)',
      description: 'For rooms without a gateway: the current window, its 8-byte token and the 17-byte frame, hex encoded, and when they stop being valid. Poll again at valid_until.',
      params: idParams, response: z.object({ room_code: z.number().int(), window: z.number().int(), token: hex, frame: hex, valid_until: z.string() }),
      errors: [[403, 'forbidden'], [404, 'not_found'], [409, 'session_not_live']],
    },
    async ({ user, params, ctx }) => {
      const { session } = await sessionForTeacher(store, user, params.id);
      if (session.state !== 'live') throw conflict('session_not_live', 'the session has ended');
      const room = await store.rooms.get(session.room_id);
      if (!room) throw notFound('room');
      const now = clock();
      const w = windowIndex(now, session.period_s);
      const token = tokenForWindow(deriveSessionKey(Buffer.from(room.secret, 'hex'), session.id), w);
      ctx.set('Cache-Control', 'no-store');
      return {
        room_code: room.room_code, window: w, token: token.toString('hex'),
        frame: encodeFrame({ roomCode: room.room_code, w, token }).toString('hex'),
        valid_until: iso(windowEndMs(w, session.period_s))!,
      };
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/session/:id', tag: 'teacher', auth: TEACHER, summary: 'Session summary with live counts',
      params: idParams, response: sessionOut.extend({ counts }), errors: [[403, 'forbidden'], [404, 'not_found']],
    },
    async ({ user, params }) => {
      const { session, course } = await sessionForTeacher(store, user, params.id);
      const entries = await computeAttendance(store, session, course, clock(), verifiedLookup);
      return { ...sessionView(session, (await store.rooms.get(session.room_id)) ?? null), counts: countByStatus(entries) };
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/session/:id/attendance', tag: 'teacher', auth: TEACHER, summary: 'Every enrolled student with status, presence and reasons',
      description: 'While the session is live the statuses are provisional (decided as if it ended now).',
      params: idParams, response: z.object({ session: sessionOut, items: z.array(attendanceOut) }), errors: [[403, 'forbidden'], [404, 'not_found']],
    },
    async ({ user, params }) => {
      const { session, course } = await sessionForTeacher(store, user, params.id);
      const now = clock();
      const entries = await computeAttendance(store, session, course, now, verifiedLookup);
      return { session: sessionView(session, (await store.rooms.get(session.room_id)) ?? null), items: await withFlags(session, entries, now) };
    },
  );

  routes.add(
    {
      method: 'put', path: '/api/v1/teacher/session/:id/attendance/:student_id', tag: 'teacher', auth: TEACHER, summary: "Override a student's status (audited)",
      description: 'Sets the status shown for this student (e.g. excused) with a reason. The computed decision is kept beside it; excused sessions leave the percentage denominator.',
      params: z.object({ id, student_id: id }), body: z.object({ status, reason: z.string().trim().min(3).max(500) }),
      response: attendanceOut, errors: [[403, 'forbidden'], [404, 'not_found'], [422, 'not_enrolled']],
    },
    async ({ user, params, body }) => {
      const { session, course } = await sessionForTeacher(store, user, params.id);
      if (!(await store.courses.isEnrolled(course.id, params.student_id))) throw new HttpError(422, 'not_enrolled', 'the student is not enrolled in this course');
      const now = clock();
      await store.transaction(async (tx) => {
        await tx.attendance.override(session.id, params.student_id, { status: body.status, reason: body.reason, by: user.id, at: now });
        await tx.audit.record({ at: now, actorId: user.id, action: 'attendance.override', target: `${session.id}/${params.student_id}`, details: { status: body.status, reason: body.reason } });
      });
      events.emit('attendance.overridden', { session_id: session.id, student_id: params.student_id, status: body.status });
      const entries = await computeAttendance(store, session, course, now, verifiedLookup);
      const entry = entries.find((e) => e.student_id === params.student_id);
      if (!entry) throw notFound('student');
      return (await withFlags(session, [entry], now))[0]!;
    },
  );
}
