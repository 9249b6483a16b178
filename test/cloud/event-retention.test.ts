/**
 * The cloud's own event history stays bounded over a term: gateway event ids (1,440 heartbeats a
 * day per gateway) and settled gateway commands are purged nightly past their horizons, while an
 * id inside its horizon is still recognised as a repeat and pending commands are never touched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { EVENT_ID_RETENTION_DAYS, HEARTBEAT_ID_RETENTION_DAYS, SETTLED_COMMAND_RETENTION_DAYS, startRetentionJob } from '../../cloud/jobs/retention.js';
import { uuidv7 } from '../../shared/ids.js';

const DAY_MS = 86_400_000;
/** A heartbeat an hour instead of a minute, and a term a bit longer than the longest horizon: the bound is the same shape. */
const HEARTBEATS_PER_DAY = 24;
const OTHER_EVENTS_PER_DAY = 2;
const DAYS = EVENT_ID_RETENTION_DAYS + 20;

let h: CloudHarness;
beforeAll(async () => {
  h = await createCloudHarness();
});
afterAll(() => h.close());

async function countRows() {
  const events = await h.store.db.selectFrom('ingested_events').select(['type']).execute();
  const commands = await h.store.db.selectFrom('gateway_commands').select(['state']).execute();
  return {
    heartbeats: events.filter((e) => e.type === 'heartbeat').length,
    others: events.filter((e) => e.type !== 'heartbeat').length,
    settled: commands.filter((c) => c.state !== 'pending').length,
    pending: commands.filter((c) => c.state === 'pending').length,
  };
}

describe('retention of the cloud event tables', () => {
  it("the cloud's event tables stay bounded", { timeout: 60_000 }, async () => {
    const room = await h.store.rooms.create('Room 1', h.clock.now);
    const job = startRetentionJob({ store: h.store, logger: pino({ level: 'silent' }), clock: h.clock, retentionDays: 30, timezone: 'UTC' });
    const pendingForever = await h.store.commands.enqueue({ roomId: room.id, type: 'ping', data: {}, now: h.clock.now });
    const otherIdsByDay: string[] = [];
    try {
      for (let day = 0; day < DAYS; day++) {
        await h.store.transaction(async (tx) => {
          for (let i = 0; i < HEARTBEATS_PER_DAY; i++) {
            await tx.gateways.recordIngested({ id: uuidv7(h.clock.now + i), gateway_id: 'gw-1', type: 'heartbeat', at: h.clock.now, received_at: h.clock.now });
          }
          for (let i = 0; i < OTHER_EVENTS_PER_DAY; i++) {
            const id = uuidv7(h.clock.now + i);
            if (i === 0) otherIdsByDay.push(id);
            await tx.gateways.recordIngested({ id, gateway_id: 'gw-1', type: 'token.rotated', at: h.clock.now, received_at: h.clock.now });
          }
          const cmd = await tx.commands.enqueue({ roomId: room.id, type: 'ping', data: {}, now: h.clock.now });
          await tx.commands.recordResult({ commandId: cmd.id, ok: true, now: h.clock.now });
        });
        h.clock.advance(DAY_MS);
        await job.runOnce();
        const rows = await countRows();
        expect(rows.heartbeats).toBeLessThanOrEqual(HEARTBEATS_PER_DAY * (HEARTBEAT_ID_RETENTION_DAYS + 1));
        expect(rows.others).toBeLessThanOrEqual(OTHER_EVENTS_PER_DAY * (EVENT_ID_RETENTION_DAYS + 1));
        expect(rows.settled).toBeLessThanOrEqual(SETTLED_COMMAND_RETENTION_DAYS + 1);
      }
    } finally {
      await job.stop();
    }
    const rows = await countRows();
    expect(rows).toEqual({
      heartbeats: HEARTBEATS_PER_DAY * HEARTBEAT_ID_RETENTION_DAYS,
      others: OTHER_EVENTS_PER_DAY * EVENT_ID_RETENTION_DAYS,
      settled: SETTLED_COMMAND_RETENTION_DAYS,
      pending: 1,
    });
    // Dedupe still holds inside the horizon and has forgotten only what lies beyond it.
    expect(await h.store.gateways.isIngested(otherIdsByDay[DAYS - EVENT_ID_RETENTION_DAYS]!)).toBe(true);
    expect(await h.store.gateways.isIngested(otherIdsByDay[DAYS - EVENT_ID_RETENTION_DAYS - 1]!)).toBe(false);
    expect((await h.store.commands.get(pendingForever.id))?.state).toBe('pending');
  });
});
