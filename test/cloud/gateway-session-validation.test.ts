/**
 * Sessions a gateway reports having started or ended by itself (docs/protocol.md, "Sessions a
 * gateway reports"): accepted only when the room's timetable has the gateway start that course
 * then, at a time near the cloud's clock once the skew its heartbeats measured is allowed for.
 * Anything else is rejected with its reason — counted, logged with gateway and event id, and
 * recorded, so a redelivery is not refused again — and changes nothing.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../shared/ids.js';
import { connectGateway, connectOutcome, envelope, provision, setupCourse, startBrokerHarness, type BrokerHarness, type ProvisionedGateway } from './broker-harness.js';
import { slotAround, type CourseFixture } from '../helpers/fixtures.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { createLogger } from '../../cloud/logger.js';
import { loadCloudConfig } from '../../cloud/config.js';
import type { IngestOutcome } from '../../cloud/bridge/ingest.js';

const MIN = 60_000;
let b: BrokerHarness;
let f: CourseFixture;
let g: ProvisionedGateway;
let client: MqttClient;
let logs: ReturnType<typeof memoryLogger>;
let now: number;

/** A cloud whose environment is `env`, a course with a slot around now, and its gateway connected. */
async function setup(env: Record<string, string> = {}): Promise<void> {
  logs = memoryLogger('debug', createLogger);
  b = await startBrokerHarness({ logger: logs.log, env });
  b.h.clock.set(Date.UTC(2026, 8, 7, 12, 0)); // a Monday noon: the course's slot is 11:00–13:00
  now = b.h.clock();
  f = await setupCourse(b.h, { students: 2 });
  g = await provision(b, f);
  await slotAround(b.h, f, now);
  client = connectGateway(b, g);
  expect(await connectOutcome(client)).toBe('connected');
}
beforeEach(() => setup());
afterEach(async () => {
  client.end(true);
  await b.close();
});

/** Publishes one event as the gateway does and resolves with what the cloud made of it. */
async function send(type: string, data: unknown, id = uuidv7()): Promise<IngestOutcome> {
  const outcome = new Promise<IngestOutcome>((resolve) => {
    const off = b.bridge.onIngested((o) => {
      if (o.id === id) {
        off();
        resolve(o);
      }
    });
  });
  await client.publishAsync(g.topics.events, envelope(type, data, id), { qos: 1 });
  return outcome;
}

const iso = (ms: number) => new Date(ms).toISOString();
const started = (startedAt: number, extra: Record<string, unknown> = {}) =>
  ({ session_id: uuidv7(), room_code: f.roomCode, course_id: f.courseId, period_s: 60, started_at: iso(startedAt), ends_at: null, source: 'timetable', ...extra });
const heartbeat = (gatewayClock: number) => ({ uptime_s: 60, clock: iso(gatewayClock), radio: 'poweredOn', outbox_depth: 0, memory_rss: 1, version: '0.1.0' });
const sessionsOfRoom = () => b.h.store.sessions.ofCourse(f.courseId, 10);
const codeOf = (o: IngestOutcome) => (o.result === 'rejected' ? o.code : o.result);

async function eventsCounted(result: string): Promise<number> {
  const metric = await b.h.deps.metrics.registry.getSingleMetric('attendance_gateway_events_total')!.get();
  return metric.values.find((v) => v.labels.result === result)?.value ?? 0;
}

describe('gateway-started sessions', () => {
  it('a gateway-started session dated 1970 is rejected', async () => {
    const data = started(Date.UTC(1970, 0, 5, 9, 0));
    const id = uuidv7();
    expect(codeOf(await send('session.started', data, id))).toBe('start_in_past');
    expect(await sessionsOfRoom()).toEqual([]);
    expect(await b.h.store.attendance.ofStudent(f.students[0]!.id, { limit: 10 })).toEqual([]);
    // Counted by reason, logged with the gateway and the event, and recorded: the retry is a duplicate.
    expect(await eventsCounted('start_in_past')).toBe(1);
    expect(logs.lines.filter((l) => l.msg === 'gateway event rejected')).toEqual([expect.objectContaining({ gatewayId: g.gatewayId, eventId: id, code: 'start_in_past' })]);
    expect(codeOf(await send('session.started', data, id))).toBe('duplicate');
    expect(logs.lines.filter((l) => l.msg === 'gateway event rejected')).toHaveLength(1);
  });

  it('a gateway-started session dated 2099 is rejected and the room stays free', async () => {
    expect(codeOf(await send('session.started', started(Date.UTC(2099, 0, 5, 9, 0))))).toBe('start_in_future');
    expect(await sessionsOfRoom()).toEqual([]);
    expect(await eventsCounted('start_in_future')).toBe(1);
    const start = await b.h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId });
    expect(start.status).toBe(201);
  });

  it('a skewed but honest gateway clock is accepted within the tolerance, and its start recorded on the cloud clock', async () => {
    const skew = 4 * MIN; // within the default 5 minutes
    expect(codeOf(await send('heartbeat', heartbeat(now + skew)))).toBe('applied');
    // Started half a minute ago by the gateway's clock, which reads `skew` ahead.
    const data = started(now + skew - 30_000);
    expect(codeOf(await send('session.started', data))).toBe('applied');
    const [session] = await sessionsOfRoom();
    expect(session).toMatchObject({ id: data.session_id, state: 'live', source: 'timetable', started_at: now - 30_000 });
  });

  it('a gateway clock off by more than the tolerance is rejected', async () => {
    expect(codeOf(await send('heartbeat', heartbeat(now + 10 * MIN)))).toBe('applied');
    expect(codeOf(await send('session.started', started(now + 10 * MIN)))).toBe('clock_skewed');
    expect(await sessionsOfRoom()).toEqual([]);
  });

  it('a start long past is accepted only when it waited in the outbox of an offline gateway', async () => {
    b.h.clock.advance(30 * MIN); // the gateway was provisioned at noon, it is 12:30
    now = b.h.clock();
    const earlier = started(now - 20 * MIN);
    expect(codeOf(await send('session.started', earlier))).toBe('start_in_past'); // it was online all along
    // The gateway comes online now: what it started 20 minutes ago, during its slot, it could not tell before.
    await client.publishAsync(g.topics.status, JSON.stringify({ state: 'online', at: iso(now), version: '0.1.0' }), { qos: 1, retain: true });
    await expect.poll(async () => (await b.h.store.gateways.get(g.gatewayId))?.online_since).toBe(now);
    const queued = started(now - 20 * MIN);
    expect(codeOf(await send('session.started', queued))).toBe('applied');
    expect((await sessionsOfRoom()).map((s) => [s.id, s.started_at])).toEqual([[queued.session_id, now - 20 * MIN]]);
    // Never from before the gateway was provisioned, offline or not.
    expect(codeOf(await send('session.started', started(Date.UTC(1970, 0, 5, 12, 10))))).toBe('start_in_past');
  });

  it("a course not in the room's timetable is rejected", async () => {
    const other = await setupCourse(b.h, { code: 'CS202', students: 0 });
    expect(codeOf(await send('session.started', started(now, { course_id: other.courseId })))).toBe('not_in_timetable');
    expect(await b.h.store.sessions.liveInRoom(f.roomId)).toBeUndefined();
  });

  it('a session claimed to come from the cloud that the cloud never started is rejected', async () => {
    expect(codeOf(await send('session.started', started(now, { source: 'cloud' })))).toBe('unknown_session');
    expect(await sessionsOfRoom()).toEqual([]);
  });

  it("a scheduled end after the slot's end is rejected", async () => {
    expect(codeOf(await send('session.started', started(now, { ends_at: iso(Date.UTC(2099, 0, 1)) })))).toBe('ends_outside_slot');
    expect(codeOf(await send('session.started', started(now, { ends_at: iso(now - MIN) })))).toBe('end_before_start');
    expect(codeOf(await send('session.started', started(now, { ends_at: iso(now + 30 * MIN) })))).toBe('applied');
  });

  it('an end before the start or in the far future is rejected; the session stays live until a sane end', async () => {
    const data = started(now - MIN);
    expect(codeOf(await send('session.started', data))).toBe('applied');
    const end = (at: number) => ({ session_id: data.session_id, ended_at: iso(at), reason: 'timetable' });
    expect(codeOf(await send('session.ended', end(Date.UTC(1970, 0, 1))))).toBe('end_before_start');
    expect(codeOf(await send('session.ended', end(Date.UTC(2099, 0, 1))))).toBe('end_in_future');
    expect((await b.h.store.sessions.get(data.session_id))?.state).toBe('live');
    expect(codeOf(await send('session.ended', end(now)))).toBe('applied');
    expect(await b.h.store.sessions.get(data.session_id)).toMatchObject({ state: 'ended', ended_at: now });
  });

  it('the tolerance is ATTENDANCE_GATEWAY_START_TOLERANCE_S', async () => {
    expect(loadCloudConfig({}).mqtt.gatewayStartToleranceMs).toBe(5 * MIN);
    client.end(true);
    await b.close();
    await setup({ ATTENDANCE_GATEWAY_START_TOLERANCE_S: '60' });
    expect(codeOf(await send('session.started', started(now + 2 * MIN)))).toBe('start_in_future');
    expect(codeOf(await send('session.started', started(now + 30_000)))).toBe('applied');
  });
});
