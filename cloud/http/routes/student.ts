/** /api/v1/student: token submission (docs/protocol.md) and the student's own records. */
import { z } from 'zod';
import { FRAME_BYTES, FrameError, decodeFrameHex, parseHex, type Frame } from '../../../shared/frame.js';
import { TOKEN_BYTES, deriveSessionKey, tokenForWindow } from '../../../shared/token.js';
import { HttpError } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { createSubmissionContext } from '../../store/submission-context.js';
import { validateSubmission, windowsOverlapping } from '../../domain/submission.js';
import { iso } from '../views.js';
import type { StudentRecord } from '../../store/attendance.js';
import { attendancePercentage, attendedOf, heldOf, isBelowMinimum, zeroCounts, type StatusCounts } from '../../domain/analytics.js';
import { id } from '../schemas.js';

const STUDENT = ['student'] as const;
/** The records a course summary is computed over: all of a student's, in practice. */
const SUMMARY_MAX_RECORDS = 10_000;
const attendanceStatus = z.enum(['present', 'late', 'absent', 'excused']);
const recordOut = z.object({
  session_id: id, course_id: id, course_code: z.string(), course_name: z.string(), started_at: z.string(), ended_at: z.string().nullable(),
  status: attendanceStatus, presence: z.number().describe("share of the session's windows that counted, 0..1"), witnessed_windows: z.number().int(), verified: z.boolean(),
  reasons: z.array(z.string()), override_reason: z.string().nullable(),
});
const courseSummaryOut = z.object({
  course_id: id, course_code: z.string(), course_name: z.string(),
  sessions: z.number().int().describe('my records in the course'), present: z.number().int(), late: z.number().int(), absent: z.number().int(), excused: z.number().int(), attended: z.number().int(),
  percentage: z.number().nullable().describe('attended / (present + late + absent) × 100, 2 decimals; null with nothing countable'),
  min_attendance_percent: z.number(), below_minimum: z.boolean(),
  min_presence: z.number().describe("share of a session's windows needed to be present, 0..1"), late_after_min: z.number().describe('a first counted window starting this many minutes after the start or later is late'),
});

function recordView(r: StudentRecord): z.infer<typeof recordOut> {
  return {
    session_id: r.session_id, course_id: r.course_id, course_code: r.course_code, course_name: r.course_name, started_at: iso(r.started_at)!, ended_at: iso(r.ended_at),
    status: r.status, presence: r.presence, witnessed_windows: r.witnessed_windows, verified: r.verified, reasons: r.reasons, override_reason: r.override?.reason ?? null,
  };
}
const rssi = z.number().int().min(-127).max(20).optional();
const submitIn = z.union([
  z.object({ frame: z.string().max(FRAME_BYTES * 2 + 2).describe('the 17-byte advertisement frame, hex'), rssi }).strict(),
  z.object({
    room_code: z.number().int().min(0).max(0xffffffff),
    window: z.number().int().min(0).max(0xffffffff),
    token: z.string().max(TOKEN_BYTES * 2 + 2).describe('8-byte token, hex'),
    rssi,
  }).strict(),
]);
const submitOut = z.object({
  status: z.enum(['accepted', 'duplicate']), session_id: id, windows_seen: z.number().int(), windows_elapsed: z.number().int(),
  witnessed: z.boolean().describe("whether the room's gateway has witnessed your phone in this window; where the course requires proximity only witnessed windows count"),
});

/**
 * token(w) of a session, cached (bounded): every student in a room presents the same token in a
 * window, so it is derived once per session and window instead of once per submission.
 */
function expectedTokenCache(max = 4096) {
  const keys = new Map<string, Buffer>();
  const tokens = new Map<string, Buffer>();
  return (sessionId: string, roomSecretHex: string) => (w: number): Buffer => {
    const id = `${sessionId}|${w}`;
    let token = tokens.get(id);
    if (!token) {
      let key = keys.get(sessionId);
      if (!key) {
        if (keys.size >= max) keys.clear();
        key = deriveSessionKey(Buffer.from(roomSecretHex, 'hex'), sessionId);
        keys.set(sessionId, key);
      }
      if (tokens.size >= max) tokens.clear();
      token = tokenForWindow(key, w);
      tokens.set(id, token);
    }
    return token;
  };
}

export function studentRoutes(routes: RouteTable, deps: AppDeps): () => void {
  const { store, clock, metrics, events } = deps;
  const tokensOf = expectedTokenCache();
  const context = createSubmissionContext(store, events);
  const writer = store.submissions.writer();

  function refuse(status: number, code: string, message: string): never {
    metrics.submissions.inc({ result: code });
    throw new HttpError(status, code, message);
  }

  routes.add(
    {
      method: 'post', path: '/api/v1/student/token/submit', tag: 'student', auth: STUDENT, summary: 'Submit a token heard over BLE',
      description: 'Send the advertised frame (`{frame}`) or its parts (`{room_code, window, token}`). Validated against the server clock: the current window, or the previous one within the grace period. Sending the same window again is answered `duplicate` and adds nothing. Where the course requires proximity (docs/api.md, "Proof of proximity") a submission is still recorded, but only windows the room\'s gateway witnessed count toward presence: `witnessed` says whether this one was.',
      body: submitIn, response: submitOut,
      errors: [[400, 'frame_invalid'], [409, 'no_active_session'], [422, 'token_invalid'], [422, 'window_expired'], [422, 'window_in_future'], [422, 'window_outside_session']],
    },
    async ({ body, user }) => {
      const receivedAt = clock();
      let frame: Frame;
      try {
        frame = 'frame' in body ? decodeFrameHex(body.frame.toLowerCase()) : { roomCode: body.room_code, w: body.window, token: parseHex('token', body.token.toLowerCase(), TOKEN_BYTES) };
      } catch (e) {
        if (e instanceof FrameError) refuse(400, 'frame_invalid', e.message);
        throw e;
      }
      const found = await context.sessionForRoomCode(frame.roomCode, receivedAt);
      // One answer whether the room is unknown, idle, or live for a course the student is not in
      // (counted alike too: /metrics is public), so that it does not tell which rooms are live.
      if (!found || !(await context.isEnrolled(found.course.id, user.id, receivedAt))) refuse(409, 'no_active_session', 'no session you can submit to is running in this room');
      const { session, room, course } = found;
      const verdict = validateSubmission(
        { startedAt: session.started_at, endedAt: session.ended_at, periodS: session.period_s, graceS: course.grace_s },
        tokensOf(session.id, room.secret), frame.w, frame.token, receivedAt,
      );
      // Every window or token refusal is well-formed input the server will not accept: 422.
      if (!verdict.ok) refuse(422, verdict.code, verdict.message);
      const { added, windowsSeen, witnessed } = await writer.record({ sessionId: session.id, studentId: user.id, w: frame.w, receivedAt, rssi: body.rssi ?? null, via: 'app' });
      metrics.submissions.inc({ result: added ? 'accepted' : 'duplicate' });
      // record() resolves once the row has committed (its batch's transaction included).
      if (added) events.emit('submission.accepted', { session_id: session.id, student_id: user.id, w: frame.w, at: receivedAt });
      return {
        status: added ? ('accepted' as const) : ('duplicate' as const),
        session_id: session.id,
        windows_seen: windowsSeen,
        windows_elapsed: windowsOverlapping(session.started_at, Math.min(receivedAt + 1, session.ended_at ?? Infinity), session.period_s).count,
        witnessed,
      };
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/student/attendance', tag: 'student', auth: STUDENT, summary: 'My attendance records (ended sessions) and my percentage per course',
      description: '`items`: the records of ended sessions, newest first, at most `limit`, each with its effective status (a teacher\'s override wins), the reasons of the decision (`presence_ok`, `presence_low`, `not_witnessed`, `verified`, `verification_missing`, `late_arrival`) and the override\'s reason. `courses`: per course, over all of my records (not only those in `items`), the counts and the percentage as docs/analytics.md defines it (late counts as attended, excused leaves the denominator), with the course\'s rules the reasons refer to. `timezone`: the institution\'s, for showing times.',
      query: z.object({ course_id: id.optional(), limit: z.coerce.number().int().min(1).max(1000).default(200) }),
      response: z.object({ items: z.array(recordOut), courses: z.array(courseSummaryOut), timezone: z.string().describe("the institution's time zone, for showing the sessions' times") }),
    },
    async ({ user, query }) => {
      const records = await store.attendance.ofStudent(user.id, { ...(query.course_id ? { courseId: query.course_id } : {}), limit: SUMMARY_MAX_RECORDS });
      return { items: records.slice(0, query.limit).map(recordView), courses: await courseSummaries(records), timezone: deps.settings.timezone };
    },
  );

  /** Per course of the records (most recent first): counts, percentage and the course's rules. */
  async function courseSummaries(records: StudentRecord[]): Promise<Array<z.infer<typeof courseSummaryOut>>> {
    const counts = new Map<string, StatusCounts>();
    for (const r of records) {
      const c = counts.get(r.course_id) ?? zeroCounts();
      c[r.status]++;
      counts.set(r.course_id, c);
    }
    const out = [];
    for (const [courseId, c] of counts) {
      const course = await store.courses.get(courseId);
      if (!course) continue;
      out.push({
        course_id: course.id, course_code: course.code, course_name: course.name, sessions: heldOf(c), ...c, attended: attendedOf(c),
        percentage: attendancePercentage(c), min_attendance_percent: course.min_attendance_pct, below_minimum: isBelowMinimum(c, course.min_attendance_pct),
        min_presence: course.min_presence, late_after_min: course.late_after_s / 60,
      });
    }
    return out;
  }

  return () => context.close();
}
