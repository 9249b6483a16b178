/**
 * Gateway events into the cloud (docs/operations.md): sessions started on the gateway appear in the cloud,
 * each event counts once however often it is delivered (token rotations too), heartbeats update
 * the gateway's state and a clock off by more than 2 s is flagged. Bad input is rejected, logged
 * and counted, and the cloud keeps ingesting.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../shared/ids.js';
import { connectGateway, connectOutcome, envelope, eventually, gatewayRow, provision, setupCourse, startBrokerHarness, type BrokerHarness, type ProvisionedGateway } from './broker-harness.js';
import { slotAround, type CourseFixture } from '../helpers/fixtures.js';
import { createLogger } from '../../cloud/logger.js';
import { memoryLogger } from '../fakes/memory-logger.js';

let b: BrokerHarness;
let f: CourseFixture;
let g: ProvisionedGateway;
let client: MqttClient;
let logs: ReturnType<typeof memoryLogger>;

beforeEach(async () => {
  // The cloud's own logger, so that "never a secret" is checked against the cloud's redaction.
  logs = memoryLogger('debug', createLogger);
  b = await startBrokerHarness({ logger: logs.log });
  f = await setupCourse(b.h);
  g = await provision(b, f);
  client = connectGateway(b, g);
  expect(await connectOutcome(client)).toBe('connected');
});
afterEach(async () => {
  client.end(true);
  await b.close();
});

const db = () => b.h.store.db;
const publish = (payload: string | Buffer) => client.publishAsync(g.topics.events, payload, { qos: 1 });
const heartbeat = (clock: Date, extra: Record<string, unknown> = {}) =>
  ({ uptime_s: 12, clock: clock.toISOString(), radio: 'poweredOn', outbox_depth: 3, memory_rss: 50_000_000, version: '0.1.0', ...extra });

function timetableStart(sessionId: string, startedAt: number, roomCode = f.roomCode) {
  return { session_id: sessionId, room_code: roomCode, course_id: f.courseId, period_s: 60, started_at: new Date(startedAt).toISOString(), ends_at: null, source: 'timetable' };
}

describe('sessions started by the gateway', () => {
  it('a timetable session appears in the cloud once, with the id the gateway chose, and its end is recorded', async () => {
    await slotAround(b.h, f, b.h.clock());
    const sessionId = uuidv7(b.h.clock());
    const started = envelope('session.started', timetableStart(sessionId, b.h.clock() - 1000));
    await publish(started);
    await publish(started); // at-least-once on the wire
    const session = await eventually(() => db().selectFrom('sessions').selectAll().where('id', '=', sessionId).executeTakeFirst(), 5000, 'the session');
    expect(session).toMatchObject({ room_id: f.roomId, course_id: f.courseId, source: 'timetable', state: 'live', period_s: 60 });

    const teacherView = await b.h.http().get(`/api/v1/teacher/sessions?course_id=${f.courseId}`).set(f.teacher.auth);
    expect(teacherView.body.items.map((s: { session_id: string }) => s.session_id)).toEqual([sessionId]);

    const w = Math.floor(b.h.clock() / 60_000);
    const rotatedId = uuidv7();
    const rotated = envelope('token.rotated', { session_id: sessionId, w, advertised_at: new Date(b.h.clock()).toISOString() }, rotatedId);
    await publish(rotated);
    await publish(rotated);
    const commandsBefore = await db().selectFrom('gateway_commands').selectAll().execute();
    await publish(envelope('session.ended', { session_id: sessionId, ended_at: new Date(b.h.clock()).toISOString(), reason: 'timetable' }));
    await eventually(async () => (await db().selectFrom('sessions').select('state').where('id', '=', sessionId).executeTakeFirst())?.state === 'ended', 5000, 'the end');

    expect(await db().selectFrom('ingested_events').select(['id', 'gateway_id']).where('type', '=', 'token.rotated').execute()).toEqual([{ id: rotatedId, gateway_id: g.gatewayId }]);
    const ingested = await db().selectFrom('ingested_events').select(['type']).orderBy('received_at').execute();
    expect(ingested.map((e) => e.type).sort()).toEqual(['session.ended', 'session.started', 'token.rotated']);
    // Every enrolled student got a decision; nothing was sent back to the gateway that ended it.
    expect(await db().selectFrom('attendance').select('status').where('session_id', '=', sessionId).execute()).toHaveLength(3);
    expect(await db().selectFrom('gateway_commands').selectAll().execute()).toEqual(commandsBefore);
  });
});

describe('heartbeats', () => {
  it("update the gateway's state; a clock 5 s ahead is flagged, a good one is not", async () => {
    await publish(envelope('heartbeat', heartbeat(new Date(b.h.clock() + 5000))));
    await eventually(async () => (await gatewayRow(b, g.gatewayId)).last_heartbeat_at !== null, 5000, 'a heartbeat');
    let list = await b.h.http().get('/api/v1/admin/gateways').set(f.admin.auth);
    expect(list.body.items[0]).toMatchObject({ outbox_depth: 3, radio: 'poweredOn', version: '0.1.0', uptime_s: 12, clock_skew_ms: 5000, clock_skew_flagged: true });
    expect(list.body.items[0].last_heartbeat).toBe(new Date(b.h.clock()).toISOString());

    await publish(envelope('heartbeat', heartbeat(new Date(b.h.clock() + 300), { outbox_depth: 0 })));
    await eventually(async () => (await gatewayRow(b, g.gatewayId)).clock_skew_ms === 300, 5000, 'the second heartbeat');
    list = await b.h.http().get('/api/v1/admin/gateways').set(f.admin.auth);
    expect(list.body.items[0]).toMatchObject({ outbox_depth: 0, clock_skew_ms: 300, clock_skew_flagged: false });
  });
});

describe('bad input', () => {
  it('rejects malformed JSON, unknown types, invalid data and events for rooms the gateway does not serve, and keeps going', async () => {
    const other = await setupCourse(b.h, { code: 'CS202' });
    const theirSession = (await b.h.http().post('/api/v1/teacher/session/start').set(other.teacher.auth).send({ course_id: other.courseId, room_id: other.roomId })).body.session_id;
    expect(theirSession).toBeTruthy();

    await publish('{"id": not json');
    await publish(envelope('door.opened', {}));
    await publish(envelope('heartbeat', { uptime_s: -1 }));
    await publish(JSON.stringify({ type: 'heartbeat', data: {} }));
    await publish(envelope('session.started', timetableStart(uuidv7(), b.h.clock(), other.roomCode)));
    await publish(envelope('token.rotated', { session_id: theirSession, w: 1, advertised_at: new Date().toISOString() }));
    await publish(envelope('session.ended', { session_id: theirSession, ended_at: new Date().toISOString(), reason: 'operator' }));
    await publish(envelope('session.started', { ...timetableStart(uuidv7(), b.h.clock()), course_id: uuidv7() }));
    await publish(envelope('command.result', { command_id: uuidv7(), ok: true }));
    // Still alive: a good heartbeat right after is ingested.
    await publish(envelope('heartbeat', heartbeat(new Date(b.h.clock()))));
    // Rejections are counted by their own update, which on PostgreSQL (a pool of connections) can
    // become visible just after the good heartbeat's batch: wait for both.
    const row = await eventually(async () => {
      const r = await gatewayRow(b, g.gatewayId);
      return r.last_heartbeat_at !== null && r.rejected_events >= 9 && r;
    }, 5000, 'the good heartbeat and the nine rejections');
    expect(row.rejected_events).toBe(9);
    expect(row.last_rejection).toMatch(/^unknown_command/);
    expect((await db().selectFrom('sessions').select('state').where('id', '=', theirSession).executeTakeFirstOrThrow()).state).toBe('live');
    expect(await db().selectFrom('sessions').selectAll().where('room_id', '=', f.roomId).execute()).toEqual([]);
    expect(client.connected).toBe(true);
    // An operator reads why, per event, and never a secret.
    const rejected = logs.lines.filter((l) => l.msg === 'gateway event rejected').map((l) => l.code);
    expect(rejected).toEqual(['malformed_json', 'unknown_type', 'invalid_data', 'invalid_envelope', 'wrong_room', 'wrong_room', 'wrong_room', 'unknown_course', 'unknown_command']);
    expect(logs.raw.join('\n')).not.toContain(g.password);
    expect(logs.raw.join('\n')).not.toContain(g.roomSecret);
  });
});
