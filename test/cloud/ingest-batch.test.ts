/**
 * Batched ingest (the embedded broker's path): one transaction for consecutive frequent events,
 * a session event in between keeps its place in the order, a repeat inside the same batch counts
 * once, and a refused event does not undo the others.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../shared/ids.js';
import { envelope, provision, setupCourse, startBrokerHarness, type BrokerHarness, type ProvisionedGateway } from './broker-harness.js';
import { slotAround, type CourseFixture } from '../helpers/fixtures.js';

let b: BrokerHarness;
let f: CourseFixture;
let g: ProvisionedGateway;

beforeEach(async () => {
  b = await startBrokerHarness();
  f = await setupCourse(b.h);
  g = await provision(b, f);
});
afterEach(async () => {
  await b.close();
});

describe('a batch of gateway events', () => {
  it('applies them in order, each id once, refusals alone', async () => {
    await slotAround(b.h, f, b.h.clock());
    const sessionId = uuidv7(b.h.clock());
    const at = new Date(b.h.clock()).toISOString();
    const rotated = (w: number, id = uuidv7()) => envelope('token.rotated', { session_id: sessionId, w, advertised_at: at }, id);
    const repeatId = uuidv7();
    const items = [
      rotated(1), // before the session exists: refused (unknown_session), the rest goes on
      envelope('session.started', { session_id: sessionId, room_code: f.roomCode, course_id: f.courseId, period_s: 60, started_at: at, ends_at: null, source: 'timetable' }),
      rotated(2, repeatId),
      rotated(2, repeatId), // the same event twice in one batch
      '{broken',
      rotated(3),
      envelope('heartbeat', { uptime_s: 5, clock: at, radio: 'poweredOn', outbox_depth: 0, memory_rss: 1, version: 'b' }),
    ].map((p) => ({ gatewayId: g.gatewayId, payload: Buffer.from(p) }));
    const rotatedIds = items.filter((_, i) => [0, 2, 5].includes(i)).map((it) => (JSON.parse(it.payload.toString()) as { id: string }).id);
    const outcomes = await b.bridge.ingest.handleBatch(items);
    expect(outcomes.map((o) => (o.result === 'rejected' ? `rejected:${o.code}` : o.result))).toEqual([
      'rejected:unknown_session', 'applied', 'applied', 'duplicate', 'rejected:malformed_json', 'applied', 'applied',
    ]);
    const db = b.h.store.db;
    // Each token.rotated id is recorded once, the refused one too (so a redelivery is not refused again).
    const ingestedRotations = async () => (await db.selectFrom('ingested_events').select('id').where('type', '=', 'token.rotated').orderBy('id').execute()).map((r) => r.id);
    expect(await ingestedRotations()).toEqual([...rotatedIds].sort());
    expect(await db.selectFrom('sessions').select('source').where('id', '=', sessionId).executeTakeFirst()).toEqual({ source: 'timetable' });
    expect((await db.selectFrom('gateways').select(['rejected_events', 'last_heartbeat_at']).where('id', '=', g.gatewayId).executeTakeFirstOrThrow())).toMatchObject({ rejected_events: 2, last_heartbeat_at: b.h.clock() });
    // Delivered again later (at-least-once on the wire): nothing changes.
    const again = await b.bridge.ingest.handleBatch(items);
    expect(again.filter((o) => o.result === 'applied')).toEqual([]);
    expect(await ingestedRotations()).toEqual([...rotatedIds].sort());
  });
});
