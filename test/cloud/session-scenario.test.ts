/**
 * The core scenario over HTTP against a real SQLite file: a teacher starts a session, students
 * submit the tokens the room advertises over several windows (short period, controlled clock),
 * the session ends, and the attendance list says present / late / absent as the policy does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { frameAt, setupCourse, type CourseFixture } from '../helpers/fixtures.js';

const T = (hh: number, mm: number, ss = 0) => Date.UTC(2026, 8, 7, hh, mm, ss);
const PERIOD = 60;

describe('a session from start to attendance list', () => {
  let h: CloudHarness;
  let f: CourseFixture;

  beforeEach(async () => {
    h = await createCloudHarness();
    // 50% presence, late from 3 minutes after the start, no biometric requirement.
    f = await setupCourse(h, { students: 4, policy: { min_presence: 0.5, late_after_min: 3, require_biometric: false } });
  });
  afterEach(() => h.close());

  async function submit(student: CourseFixture['students'][number], sessionId: string) {
    return h.http().post('/api/v1/student/token/submit').set(student.auth).send({ frame: frameAt(f, sessionId, PERIOD, h.clock()), rssi: -60 });
  }

  it('decides present, late and absent from the windows each student was seen in', async () => {
    const [alice, bob, carol, dave] = f.students as [typeof f.students[0], typeof f.students[0], typeof f.students[0], typeof f.students[0]];
    h.clock.set(T(8, 0, 30));
    const start = await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: PERIOD });
    expect(start.status).toBe(201);
    expect(start.body).toMatchObject({ course_id: f.courseId, room_id: f.roomId, period_s: PERIOD, state: 'live', started_at: '2026-09-07T08:00:30.000Z' });
    const sid = start.body.session_id as string;

    // Windows 08:00 .. 08:10 overlap the session [08:00:30, 08:10:30): 11 windows.
    for (let minute = 0; minute <= 10; minute++) {
      h.clock.set(T(8, minute, minute === 0 ? 40 : 20));
      const r = await submit(alice, sid);
      expect(r.status, `alice minute ${minute}: ${JSON.stringify(r.body)}`).toBe(200);
      expect(r.body).toMatchObject({ status: 'accepted', session_id: sid, windows_seen: minute + 1, windows_elapsed: minute + 1 });
      if (minute >= 4) expect((await submit(bob, sid)).body.status).toBe('accepted'); // arrives 3.5 min late
      if (minute <= 3) expect((await submit(carol, sid)).body.status).toBe('accepted'); // leaves early
    }
    // A replay of the current window is reported and adds nothing.
    const replay = await submit(alice, sid);
    expect(replay.body).toMatchObject({ status: 'duplicate', windows_seen: 11 });

    const live = await h.http().get(`/api/v1/teacher/session/${sid}`).set(f.teacher.auth);
    expect(live.body.counts).toEqual({ enrolled: 4, present: 1, late: 1, absent: 2, excused: 0 });

    h.clock.set(T(8, 10, 30));
    const end = await h.http().post(`/api/v1/teacher/session/${sid}/end`).set(f.teacher.auth);
    expect(end.status).toBe(200);
    expect(end.body).toMatchObject({ state: 'ended', ended_at: '2026-09-07T08:10:30.000Z', counts: { enrolled: 4, present: 1, late: 1, absent: 2, excused: 0 } });

    const list = await h.http().get(`/api/v1/teacher/session/${sid}/attendance`).set(f.teacher.auth);
    expect(list.status).toBe(200);
    const by = Object.fromEntries(list.body.items.map((i: { student_id: string }) => [i.student_id, i]));
    expect(by[alice.id]).toMatchObject({ status: 'present', windows_seen: 11, windows_total: 11, presence: 1, reasons: ['presence_ok'], provisional: false });
    expect(by[bob.id]).toMatchObject({ status: 'late', windows_seen: 7, windows_total: 11, reasons: ['presence_ok', 'late_arrival'] });
    expect(by[bob.id].first_seen).toBe('2026-09-07T08:04:20.000Z');
    expect(by[carol.id]).toMatchObject({ status: 'absent', windows_seen: 4, reasons: ['presence_low'] });
    expect(by[dave.id]).toMatchObject({ status: 'absent', windows_seen: 0, presence: 0, first_seen: null });

    // The decisions are the record: once the raw submissions are gone (retention), nothing changes.
    await h.store.db.deleteFrom('submissions').where('session_id', '=', sid).execute();
    const kept = await h.http().get(`/api/v1/teacher/session/${sid}/attendance`).set(f.teacher.auth);
    expect(kept.body.items).toEqual(list.body.items);

    // The records are stored: the student sees their own.
    const mine = await h.http().get('/api/v1/student/attendance').set(bob.auth);
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items[0]).toMatchObject({ session_id: sid, status: 'late', course_code: 'CS101' });

    // After the end (and its grace), the room has no session: submissions are refused.
    h.clock.set(T(8, 12));
    const late = await submit(dave, sid);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('no_active_session');
  });

  it('accepts the previous window only within the grace period, judged by the server clock', async () => {
    h.clock.set(T(9, 0, 0));
    const sid = (await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: PERIOD })).body.session_id;
    const heard = frameAt(f, sid, PERIOD, T(9, 0, 50));
    h.clock.set(T(9, 1, 59)); // 59 s after the window ended: inside the default 60 s grace
    expect((await h.http().post('/api/v1/student/token/submit').set(f.students[0]!.auth).send({ frame: heard })).body.status).toBe('accepted');
    h.clock.set(T(9, 2, 0)); // 60 s after: expired
    const r = await h.http().post('/api/v1/student/token/submit').set(f.students[1]!.auth).send({ frame: heard });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('window_expired');
  });

  it('lets a teacher excuse a student, audited, and keeps one live session per room', async () => {
    h.clock.set(T(10, 0));
    const sid = (await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: PERIOD })).body.session_id;
    const again = await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'room_busy', details: { session_id: sid } });

    const student = f.students[2]!;
    const o = await h.http().put(`/api/v1/teacher/session/${sid}/attendance/${student.id}`).set(f.teacher.auth).send({ status: 'excused', reason: 'medical certificate' });
    expect(o.status).toBe(200);
    expect(o.body).toMatchObject({ status: 'excused', override: { status: 'excused', reason: 'medical certificate', by: f.teacher.id } });
    h.clock.set(T(10, 30));
    await h.http().post(`/api/v1/teacher/session/${sid}/end`).set(f.teacher.auth).expect(200);
    const list = await h.http().get(`/api/v1/teacher/session/${sid}/attendance`).set(f.teacher.auth);
    const rec = list.body.items.find((i: { student_id: string }) => i.student_id === student.id);
    expect(rec).toMatchObject({ status: 'excused', reasons: ['presence_low'] });
    const audit = await h.store.db.selectFrom('audit_log').selectAll().where('action', '=', 'attendance.override').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_id: f.teacher.id, target: `${sid}/${student.id}` });
    expect(JSON.parse(audit[0]!.details)).toEqual({ status: 'excused', reason: 'medical certificate' });

    const ended = await h.http().post(`/api/v1/teacher/session/${sid}/end`).set(f.teacher.auth);
    expect(ended.status).toBe(409);
    expect(ended.body.error.code).toBe('session_not_live');
  });

  it('gives a teacher phone the token to advertise, equal to what a gateway would compute', async () => {
    h.clock.set(T(11, 0, 5));
    const sid = (await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: PERIOD })).body.session_id;
    const tok = await h.http().get(`/api/v1/teacher/session/${sid}/token`).set(f.teacher.auth);
    expect(tok.status).toBe(200);
    expect(tok.body).toEqual({
      room_code: f.roomCode, window: Math.floor(T(11, 0, 5) / 60_000), token: frameAt(f, sid, PERIOD, h.clock()).slice(18),
      frame: frameAt(f, sid, PERIOD, h.clock()), valid_until: '2026-09-07T11:01:00.000Z',
    });
    expect(tok.headers['cache-control']).toBe('no-store');
    const sub = await h.http().post('/api/v1/student/token/submit').set(f.students[0]!.auth).send({ room_code: tok.body.room_code, window: tok.body.window, token: tok.body.token });
    expect(sub.body.status).toBe('accepted');
  });
});
