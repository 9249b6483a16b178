/**
 * Two cloud instances on one PostgreSQL schema (two `composeCloud`s, as two processes behind a
 * load balancer would be): a change committed on A reaches B's caches through the change feed
 * (LISTEN/NOTIFY), not through their lifetimes. Both instances run on one frozen test clock, so
 * no cache entry can ever expire: whatever B does differently after a change on A, only a
 * notification (or the drop after a reconnect) can explain it. The notifications travel over
 * real connections to the real PostgreSQL; the gateway is a real MQTT client on B's broker.
 */
import fs from 'node:fs';
import pg from 'pg';
import pino from 'pino';
import supertest from 'supertest';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { composeCloud, type ComposedCloud } from '../../cloud/main.js';
import { createCloudHarness, testClock, type CloudHarness } from '../helpers/cloud.js';
import { frameAt, setupCourse, type CourseFixture } from '../helpers/fixtures.js';
import { eventually } from '../helpers/eventually.js';
import { connectGateway, connectOutcome, envelope } from './broker-harness.js';
import { windowIndex } from '../../shared/token.js';
import { gatewayTopics } from '../../shared/mqtt/topics.js';
import { CloudEvents } from '../../cloud/events.js';
import { CHANGE_CHANNEL, MAX_CHANGES_PER_TURN, createChangeFeed, type Change } from '../../cloud/store/change-feed.js';
import { createSubmissionContext } from '../../cloud/store/submission-context.js';

const PG = process.env.TEST_DATABASE_URL;
const PERIOD = 60;
const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Whether `pid` is a PostgreSQL process on this machine (and not some other process that happens to have that number). */
function isLocalPostgres(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('postgres');
  } catch {
    return false;
  }
}

describe.skipIf(!PG)('two cloud instances on one PostgreSQL (run with TEST_DATABASE_URL set, as npm run test:postgres does)', () => {
  let a: CloudHarness;
  let b: ComposedCloud;
  let f: CourseFixture;
  const onB = () => supertest.agent(b.app.koa.callback());

  beforeEach(async () => {
    // 30 s into a window: the previous window's token is still accepted while the grace is 60 s.
    const clock = testClock(windowIndex(Date.now(), PERIOD) * PERIOD * 1000 + 30_000);
    a = await createCloudHarness({
      clock,
      // A session start waits for its gateway's confirmation up to the longest timeout allowed, so
      // a start answered quickly was woken by the confirmation itself.
      env: { MQTT_DISABLED: 'false', MQTT_PORT: '0', MQTT_HOST: '127.0.0.1', MQTT_CLIENT_ID: 'cloud-a', MQTT_ACK_TIMEOUT_MS: '30000' },
    });
    // The same configuration (database, signing key), but its own broker and MQTT client id.
    b = await composeCloud({ ...a.cloud.config, mqtt: { ...a.cloud.config.mqtt, clientId: 'cloud-b' } }, { logger: silent, clock });
    f = await setupCourse(a, { students: 2, policy: { grace_s: 60, require_biometric: false } });
  });
  afterEach(async () => {
    await b.stop();
    await a.close();
  });

  const submitOnB = (student: CourseFixture['students'][number], sessionId: string, atMs = a.clock()) =>
    onB().post('/api/v1/student/token/submit').set(student.auth).send({ frame: frameAt(f, sessionId, PERIOD, atMs) });

  async function startOnA(): Promise<string> {
    const start = await a.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: PERIOD });
    expect(start.status).toBe(201);
    return start.body.session_id as string;
  }

  /** Starts a session on A and waits until B accepts from it: B's caches now hold the room's session and the course's enrolments. */
  async function liveSessionSeenByB(): Promise<string> {
    const sid = await startOnA();
    await eventually(async () => (await submitOnB(f.students[0]!, sid)).status === 200, 2000, 'B accepting the session');
    return sid;
  }

  it('a session started on A accepts a submission on B within 100 ms', async () => {
    const [alice] = f.students;
    // B looks the room up and caches "no session here".
    const before = await submitOnB(alice!, '00000000-0000-7000-8000-000000000000');
    expect(before.body.error.code).toBe('no_active_session');
    const sid = await startOnA();
    const accepted = await eventually(async () => {
      const r = await submitOnB(alice!, sid);
      return r.status === 200 && r.body;
    }, 2000, 'B accepting a submission to the session A started');
    expect(accepted).toMatchObject({ status: 'accepted', session_id: sid });
  });

  it('an enrolment made on A is honoured by B within 100 ms', async () => {
    const sid = await liveSessionSeenByB();
    const newcomer = await a.user('student', 'newcomer');
    expect((await submitOnB(newcomer, sid)).body.error.code).toBe('no_active_session');
    const enrol = await a.http().post(`/api/v1/admin/courses/${f.courseId}/enrollments`).set(f.admin.auth).send({ student_ids: [newcomer.id] });
    expect(enrol.body.enrolled).toBe(1);
    await eventually(async () => (await submitOnB(newcomer, sid)).status === 200, 2000, 'B honouring the enrolment made on A');
  });

  it('a token revoked on A is refused on B', async () => {
    const student = f.students[0]!;
    expect((await onB().get('/api/v1/auth/me').set(student.auth)).status).toBe(200);
    expect((await a.http().post('/api/v1/auth/logout-all').set(student.auth)).status).toBe(204);
    const refused = await eventually(async () => {
      const r = await onB().get('/api/v1/auth/me').set(student.auth);
      return r.status === 401 && r.body;
    }, 2000, 'B refusing the token revoked on A');
    expect(refused.error.code).toBe('invalid_token');
  });

  it("a course policy changed on A is applied by B's next submission", async () => {
    const sid = await liveSessionSeenByB();
    const bob = f.students[1]!;
    // A window later, the session's first window ended 30 s ago: accepted within the 60 s grace.
    const previousWindow = a.clock();
    a.clock.advance(PERIOD * 1000);
    expect((await submitOnB(bob, sid, previousWindow)).body.status).toBe('accepted');
    // With a 10 s grace its token has expired.
    expect((await a.http().put(`/api/v1/admin/courses/${f.courseId}/policy`).set(f.admin.auth).send({ grace_s: 10 })).status).toBe(200);
    await eventually(async () => (await submitOnB(bob, sid, previousWindow)).body.error?.code === 'window_expired', 2000, 'B applying the grace set on A');
  });

  it("a gateway revoked on A is dropped from B's broker and its events are refused by B", async () => {
    const res = await a.http().post(`/api/v1/admin/rooms/${f.roomId}/gateways`).set(f.admin.auth).send({ mode: 'credentials' });
    expect(res.status).toBe(201);
    const { gateway_id: gatewayId, mqtt_password: password } = res.body.credentials.config;
    const heartbeat = () => Buffer.from(envelope('heartbeat', { uptime_s: 5, clock: new Date(a.clock()).toISOString(), radio: 'virtual', outbox_depth: 0, memory_rss: 1, version: 'test' }));
    // B caches the gateway's row with the first event it ingests.
    expect((await b.bridge!.ingest.handle(gatewayId, heartbeat())).result).toBe('applied');
    let client: MqttClient | undefined;
    try {
      client = connectGateway({ bridge: b.bridge! }, { gatewayId, password });
      expect(await connectOutcome(client)).toBe('connected');
      expect((await a.http().delete(`/api/v1/admin/gateways/${gatewayId}`).set(f.admin.auth)).status).toBe(204);
      await eventually(() => !client!.connected, 2000, "B dropping the revoked gateway's connection");
      const refused = await b.bridge!.ingest.handle(gatewayId, heartbeat());
      expect(refused).toMatchObject({ result: 'rejected', code: 'unknown_gateway' });
    } finally {
      client?.end(true);
    }
  });

  it("a gateway's confirmation ingested by B answers the session start waiting on A", async () => {
    const res = await a.http().post(`/api/v1/admin/rooms/${f.roomId}/gateways`).set(f.admin.auth).send({ mode: 'credentials' });
    expect(res.status).toBe(201);
    const { gateway_id: gatewayId, mqtt_password: password } = res.body.credentials.config;
    const topics = gatewayTopics(gatewayId, a.cloud.config.mqtt.topicPrefix);
    // The room's gateway is connected to A's broker, and its answer reaches B (as a shared
    // subscription may hand it to either instance).
    const client = connectGateway({ bridge: a.cloud.bridge! }, { gatewayId, password });
    try {
      expect(await connectOutcome(client)).toBe('connected');
      await client.subscribeAsync(topics.cmd, { qos: 1 });
      client.on('message', (_topic, payload) => {
        const { id } = JSON.parse(payload.toString()) as { id: string };
        void b.bridge!.ingest.handle(gatewayId, Buffer.from(envelope('command.result', { command_id: id, ok: true })));
      });
      await client.publishAsync(topics.status, JSON.stringify({ state: 'online', at: new Date().toISOString(), version: 'test' }), { qos: 1, retain: true });
      await eventually(async () => (await a.cloud.store.gateways.get(gatewayId))?.state === 'online', 2000, 'A seeing the gateway online');
      const started = Date.now();
      const start = await a.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: PERIOD });
      expect([start.status, start.body.gateway?.state]).toEqual([201, 'confirmed']);
      expect(Date.now() - started).toBeLessThan(10_000); // far below the 30 s wait: the notification woke it
    } finally {
      client.end(true);
    }
  });

  it("after the listener's connection is cut (pg_terminate_backend), B reconnects and drops its caches", async () => {
    const sid = await liveSessionSeenByB();
    const newcomer = await a.user('student', 'newcomer');
    expect((await submitOnB(newcomer, sid)).body.error.code).toBe('no_active_session');
    // An enrolment whose notification B never gets (as if sent while B was not listening).
    await a.store.courses.enroll(f.courseId, newcomer.id, a.clock());
    expect((await submitOnB(newcomer, sid)).body.error.code).toBe('no_active_session');

    const cut = b.changeFeed.backendPid;
    expect(cut).not.toBeNull();
    const admin = new pg.Client({ connectionString: PG });
    await admin.connect();
    try {
      expect((await admin.query('select pg_terminate_backend($1) as done', [cut])).rows[0].done).toBe(true);
    } finally {
      await admin.end();
    }
    await eventually(() => b.changeFeed.backendPid !== null && b.changeFeed.backendPid !== cut, 5000, 'B listening on a new connection');
    expect((await submitOnB(newcomer, sid)).status).toBe(200);
  });

  it('a listening connection that stops answering is given up: the feed listens on a new one and drops every cache', async (ctx) => {
    const events = new CloudEvents(silent);
    let dropped = 0;
    events.on('changes.remote', {}, (change) => void (change.kind === 'all' && dropped++));
    const feed = createChangeFeed({ databaseUrl: a.cloud.config.databaseUrl, store: a.store, events, logger: silent, probe: { intervalMs: 100, timeoutMs: 300 } });
    await feed.start();
    const hung = feed.backendPid!;
    try {
      // The server process behind the connection stops (as a link that drops everything would look): the socket stays open.
      if (!isLocalPostgres(hung)) ctx.skip(`PostgreSQL's backend process ${hung} is not on this machine: it cannot be stopped from here`);
      try {
        process.kill(hung, 'SIGSTOP');
      } catch (err) {
        ctx.skip(`cannot stop PostgreSQL's backend process (${(err as NodeJS.ErrnoException).code}): it is not ours to signal`);
      }
      expect(dropped).toBe(1);
      await eventually(() => feed.backendPid !== null && feed.backendPid !== hung, 5000, 'the feed listening on a new connection');
      expect(dropped).toBe(2);
    } finally {
      try {
        process.kill(hung, 'SIGCONT');
      } catch {
        // not stopped
      }
      await feed.stop();
    }
  });

  it("a bulk change on A (a roster import's accounts) reaches B as one notification to drop everything", async () => {
    const heard: Change[] = [];
    b.deps.events.on('changes.remote', {}, (change) => void heard.push(change));
    const ids = Array.from({ length: MAX_CHANGES_PER_TURN + 1 }, (_, i) => `bulk-${i}`);
    for (const id of ids) a.deps.events.emit('account.tokens_revoked', { user_id: id });
    await eventually(() => heard.some((c) => c.kind === 'all'), 2000, 'B hearing that everything may have changed');
    expect(heard.filter((c) => c.kind === 'account' && ids.includes(c.id))).toEqual([]);
  });

  it('a notification B cannot read drops every cache', async () => {
    const sid = await liveSessionSeenByB();
    const newcomer = await a.user('student', 'newcomer');
    expect((await submitOnB(newcomer, sid)).body.error.code).toBe('no_active_session');
    await a.store.courses.enroll(f.courseId, newcomer.id, a.clock());
    const other = new pg.Client({ connectionString: PG });
    await other.connect();
    try {
      await other.query('select pg_notify($1, $2)', [CHANGE_CHANNEL, '{"kind":"room","id":1}']);
    } finally {
      await other.end();
    }
    await eventually(async () => (await submitOnB(newcomer, sid)).status === 200, 2000, 'B dropping its caches');
  });
});

describe('a cache read racing a change', () => {
  it('an enrolment set read before a change notification is not cached after it', async () => {
    const events = new CloudEvents(silent);
    const reads: Array<(ids: Set<string>) => void> = [];
    const courses = { enrolledIds: () => new Promise<Set<string>>((resolve) => reads.push(resolve)) };
    const context = createSubmissionContext({ courses } as unknown as Parameters<typeof createSubmissionContext>[0], events);
    try {
      const stale = context.isEnrolled('course-1', 'newcomer', 0);
      // The enrolment commits on another instance while this read is in flight.
      events.emit('changes.remote', { kind: 'enrolment', id: 'course-1' });
      reads.shift()!(new Set());
      expect(await stale).toBe(false);
      const fresh = context.isEnrolled('course-1', 'newcomer', 0);
      await eventually(() => reads.length > 0, 1000, 'a second read of the enrolments');
      reads.shift()!(new Set(['newcomer']));
      expect(await fresh).toBe(true);
    } finally {
      context.close();
    }
  });
});

describe.skipIf(PG)('one cloud instance on SQLite', () => {
  it('has no change feed connection: one process needs no notifications', async () => {
    const h = await createCloudHarness();
    try {
      expect(h.cloud.changeFeed.backendPid).toBeNull();
    } finally {
      await h.close();
    }
  });
});
