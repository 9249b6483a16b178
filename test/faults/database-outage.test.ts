/**
 * The cloud's link to PostgreSQL cut for 30 s at the socket level: every connection through a
 * loopback proxy is reset and new ones are refused. Requests that need the database answer 503
 * `database_unavailable` with Retry-After (never a 500, never a hang), /readyz says not ready, the
 * process keeps running, and once the link is back the pool reconnects by itself: submissions are
 * accepted again without a restart. Runs only on PostgreSQL (TEST_DATABASE_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { eventually } from '../helpers/eventually.js';
import { frameAt, setupCourse, type CourseFixture } from '../helpers/fixtures.js';
import { CONNECT_TIMEOUT_MS } from '../../cloud/store/pg-pool.js';
import { DATABASE_RETRY_AFTER_S } from '../../cloud/http/errors.js';
import { CuttableProxy } from './tcp-proxy.js';

const PG_URL = process.env.TEST_DATABASE_URL;
const CUT_MS = 30_000;
const PERIOD_S = 60;
const T0 = Date.UTC(2026, 8, 7, 8, 0, 10);

describe.skipIf(!PG_URL)('the cloud while PostgreSQL is unreachable (runs with TEST_DATABASE_URL)', () => {
  let proxy: CuttableProxy;
  let h: CloudHarness;
  let f: CourseFixture;
  let sessionId: string;
  let cutUntil = 0;

  beforeAll(async () => {
    const target = new URL(PG_URL!);
    proxy = await new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) }).start();
    h = await createCloudHarness({
      configure: (config) => {
        const viaProxy = new URL(config.databaseUrl);
        viaProxy.hostname = '127.0.0.1';
        viaProxy.port = String(proxy.port);
        return { ...config, databaseUrl: viaProxy.toString() };
      },
    });
    f = await setupCourse(h, { students: 3, policy: { require_biometric: false } });
    h.clock.set(T0);
    const start = await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: PERIOD_S });
    expect(start.status).toBe(201);
    sessionId = start.body.session_id as string;
  });
  afterAll(async () => {
    await proxy?.restore();
    await h?.close();
    await proxy?.close();
  });

  const submit = (student: CourseFixture['students'][number]) =>
    h.http().post('/api/v1/student/token/submit').set(student.auth).send({ frame: frameAt(f, sessionId, PERIOD_S, h.clock()), rssi: -60 });

  it('answers 503 database_unavailable with Retry-After, not 500, once the link to PostgreSQL is cut', async () => {
    const [alice, bob] = f.students as [CourseFixture['students'][number], CourseFixture['students'][number]];
    expect((await submit(alice)).body.status).toBe('accepted');
    expect(proxy.connections).toBeGreaterThan(0);

    await proxy.cut();
    cutUntil = Date.now() + CUT_MS;
    h.clock.advance(PERIOD_S * 1000); // the next window, while the database is away
    const res = await submit(bob);
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body).toEqual({ error: { code: 'database_unavailable', message: expect.any(String) } });
    expect(res.headers['retry-after']).toBe(String(DATABASE_RETRY_AFTER_S));
  });

  it('does not answer a valid bearer token with 401 invalid_token while its account cannot be looked up', async () => {
    const carol = f.students[2]!; // a token the cloud has never checked, so her account must be read
    const res = await h.http().get('/api/v1/student/attendance').set(carol.auth);
    expect(res.status, JSON.stringify(res.body)).not.toBe(401);
    expect(res.status).toBe(503);
  });

  it('keeps answering 503 within the pool connect timeout for the whole 30 s cut, /readyz not ready, the process up (idle pool connections reset by the cut do not crash it)', async () => {
    let probes = 0;
    while (Date.now() < cutUntil - 2_000) {
      const began = Date.now();
      const [submission, ready, list] = await Promise.all([
        submit(f.students[1]!),
        h.http().get('/readyz'),
        h.http().get(`/api/v1/teacher/session/${sessionId}/attendance`).set(f.teacher.auth),
      ]);
      expect(Date.now() - began, 'no request waits longer than the pool connect timeout').toBeLessThan(CONNECT_TIMEOUT_MS + 2_000);
      for (const res of [submission, list]) {
        expect(res.status, JSON.stringify(res.body)).toBe(503);
        expect(res.body.error.code).toBe('database_unavailable');
      }
      expect(ready.status).toBe(503);
      expect(ready.body.checks[0]).toMatchObject({ name: 'database', ok: false });
      probes++;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    expect(probes).toBeGreaterThan(5);
    await new Promise((r) => setTimeout(r, Math.max(0, cutUntil - Date.now())));
  }, CUT_MS + 10_000);

  it('recovers by itself after the cut: the pool reconnects and submissions are accepted again, no restart', async () => {
    await proxy.restore();
    const accepted = await eventually(async () => {
      const res = await submit(f.students[1]!);
      return res.status === 200 && res.body;
    }, 15_000, 'a submission accepted after the database came back');
    expect(accepted).toMatchObject({ status: 'accepted', session_id: sessionId });
    expect((await submit(f.students[0]!)).body.status).toBe('accepted');
    expect((await h.http().get('/readyz')).status).toBe(200);
  }, 30_000);
});
