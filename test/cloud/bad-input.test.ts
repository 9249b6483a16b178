/** Bad input at the HTTP boundary: each refused with its 4xx and code, never a 5xx, nothing written. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { frameAt, setupCourse, type CourseFixture } from '../helpers/fixtures.js';
import { deriveSessionKey, tokenForWindow, windowIndex } from '../../shared/token.js';
import { encodeFrame } from '../../shared/frame.js';

const PERIOD = 60;
let h: CloudHarness;
let f: CourseFixture;
let other: CourseFixture;
let sid: string;
let otherSid: string;

async function submissionCount(): Promise<number> {
  const r = await h.store.db.selectFrom('submissions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

beforeAll(async () => {
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 2, code: 'BAD1', policy: { require_biometric: false } });
  other = await setupCourse(h, { students: 1, code: 'BAD2', policy: { require_biometric: false } });
  h.clock.set(Date.UTC(2026, 8, 7, 8, 0, 10));
  sid = (await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: PERIOD })).body.session_id;
  otherSid = (await h.http().post('/api/v1/teacher/session/start').set(other.teacher.auth).send({ course_id: other.courseId, room_id: other.roomId, period_s: PERIOD })).body.session_id;
  h.clock.advance(5 * 60_000);
});
afterAll(() => h.close());

function submit(body: unknown, contentType = 'application/json') {
  const req = h.http().post('/api/v1/student/token/submit').set(f.students[0]!.auth).set('Content-Type', contentType);
  return req.send(typeof body === 'string' ? body : JSON.stringify(body));
}

describe('submissions that must be refused', () => {
  const now = () => h.clock();
  const cases: Array<[string, () => unknown, number, string]> = [
    ['malformed JSON', () => '{"frame": ', 400, 'malformed_json'],
    ['a JSON array', () => '[1,2]', 400, 'validation_error'],
    ['frame of the wrong type', () => ({ frame: 12345 }), 400, 'validation_error'],
    ['unknown extra field', () => ({ frame: frameAt(f, sid, PERIOD, now()), student_id: 'x' }), 400, 'validation_error'],
    ['rssi out of range', () => ({ frame: frameAt(f, sid, PERIOD, now()), rssi: 500 }), 400, 'validation_error'],
    ['frame too short', () => ({ frame: '0100' }), 400, 'frame_invalid'],
    ['frame not hex', () => ({ frame: 'zz'.repeat(17) }), 400, 'frame_invalid'],
    ['frame of an unknown version', () => ({ frame: '02' + frameAt(f, sid, PERIOD, now()).slice(2) }), 400, 'frame_invalid'],
    ['token not hex', () => ({ room_code: f.roomCode, window: windowIndex(now(), PERIOD), token: 'not-hex!' }), 400, 'frame_invalid'],
    ['room code that names no room', () => ({ room_code: (f.roomCode + 1) >>> 0, window: windowIndex(now(), PERIOD), token: '00'.repeat(8) }), 409, 'no_active_session'],
    ['forged token', () => ({ room_code: f.roomCode, window: windowIndex(now(), PERIOD), token: '0123456789abcdef' }), 422, 'token_invalid'],
    ['token of another session in the same room', () => ({ frame: frameAt(f, otherSid, PERIOD, now()) }), 422, 'token_invalid'],
    ['token of another room for this room code', () => {
      const w = windowIndex(now(), PERIOD);
      return { frame: encodeFrame({ roomCode: f.roomCode, w, token: tokenForWindow(deriveSessionKey(other.roomSecret, sid), w) }).toString('hex') };
    }, 422, 'token_invalid'],
    ['a room of a course the student is not in (answered like an idle room)', () => ({ frame: frameAt(other, otherSid, PERIOD, now()) }), 409, 'no_active_session'],
    ['window from the past', () => ({ frame: frameAt(f, sid, PERIOD, now() - 3 * 60_000) }), 422, 'window_expired'],
    ['window from the future', () => ({ frame: frameAt(f, sid, PERIOD, now() + 60_000) }), 422, 'window_in_future'],
    ['window before the session began', () => ({ frame: frameAt(f, sid, PERIOD, Date.UTC(2026, 8, 7, 7, 0)) }), 422, 'window_expired'],
  ];

  it.each(cases)('%s → %i %s', async (_name, body, status, code) => {
    const before = await submissionCount();
    const res = await submit(body());
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(await submissionCount()).toBe(before);
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await submit({ frame: 'a'.repeat(400_000) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('refuses an unsupported content type with 415', async () => {
    const res = await submit('frame=00', 'application/xml');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('counts a replayed window once, however often it is sent', async () => {
    const frame = frameAt(f, sid, PERIOD, now());
    const results = await Promise.all(Array.from({ length: 8 }, () => submit({ frame })));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(results.filter((r) => r.body.status === 'accepted')).toHaveLength(1);
    expect(new Set(results.map((r) => r.body.windows_seen))).toEqual(new Set([1]));
  });
});

describe('other routes', () => {
  it('answers a validation error with the fields that are wrong', async () => {
    const res = await h.http().post('/api/v1/admin/courses').set(f.admin.auth).send({ code: '', name: 7, teacher_id: 'nope' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['code', 'name', 'teacher_id']);
  });

  it('refuses a course for a non-teacher and an unknown term', async () => {
    const r1 = await h.http().post('/api/v1/admin/courses').set(f.admin.auth).send({ code: 'X1', name: 'X', teacher_id: f.students[0]!.id });
    expect(r1.body.error.code).toBe('not_a_teacher');
    const r2 = await h.http().post('/api/v1/admin/courses').set(f.admin.auth).send({ code: 'X1', name: 'X', teacher_id: f.teacher.id, term_id: f.courseId });
    expect(r2.body.error.code).toBe('unknown_term');
  });

  it('refuses a term that ends before it starts and an invalid date', async () => {
    const r = await h.http().post('/api/v1/admin/terms').set(f.admin.auth).send({ name: 'T', starts_on: '2026-09-01', ends_on: '2026-08-01' });
    expect(r.status).toBe(400);
    const r2 = await h.http().post('/api/v1/admin/terms').set(f.admin.auth).send({ name: 'T', starts_on: '2026-02-30', ends_on: '2026-08-01' });
    expect(r2.status).toBe(400);
  });

  it('refuses a period outside 10..3600 and unknown ids', async () => {
    const r = await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: 5 });
    expect(r.status).toBe(400);
    const r2 = await h.http().get('/api/v1/teacher/session/not-a-uuid').set(f.teacher.auth);
    expect(r2.status).toBe(400);
    const r3 = await h.http().get('/api/v1/teacher/session/0192f3a0-7c00-7000-8000-000000000001').set(f.teacher.auth);
    expect(r3.status).toBe(404);
    expect(r3.body.error.code).toBe('not_found');
  });

  it('answers an unknown path with a JSON 404 and a wrong method with 405', async () => {
    const r = await h.http().get('/api/v1/nothing-here');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
    const r2 = await h.http().delete('/api/v1/auth/register');
    expect(r2.status).toBe(405);
    expect(r2.body.error.code).toBe('method_not_allowed');
  });
});
