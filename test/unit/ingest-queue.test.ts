/**
 * The embedded broker's group commit (cloud/bridge/ingest-queue.ts): an event resolves only once
 * its batch committed, and one event that cannot be ingested does not hold up the other gateways.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { EventIngest, Incoming, IngestOutcome } from '../../cloud/bridge/ingest.js';
import { IngestQueue } from '../../cloud/bridge/ingest-queue.js';

const POISON = 'poison';

/** An ingest whose batches fail whenever they hold the poison payload or the database is "down". */
function fakeIngest(state: { down: boolean; committed: string[] }): EventIngest {
  return {
    async handleBatch(items: Incoming[]): Promise<IngestOutcome[]> {
      await new Promise((r) => setImmediate(r));
      if (state.down || items.some((i) => i.payload.toString() === POISON)) throw new Error('SQLITE_CONSTRAINT: boom');
      state.committed.push(...items.map((i) => i.payload.toString()));
      return items.map((i) => ({ result: 'applied', gatewayId: i.gatewayId, type: 'heartbeat', id: i.payload.toString() }) as IngestOutcome);
    },
  } as unknown as EventIngest;
}

const item = (gatewayId: string, payload: string): Incoming => ({ gatewayId, payload: Buffer.from(payload) });
const settle = (p: Promise<unknown>) => p.then(() => 'committed', () => 'refused');

describe('ingest queue', () => {
  it('one event that cannot be ingested does not hold up the other gateways, and is refused unacknowledged', async () => {
    const state = { down: false, committed: [] as string[] };
    const queue = new IngestQueue(fakeIngest(state), pino({ level: 'silent' }), () => {}, async () => {});
    const results = await Promise.all([
      settle(queue.push(item('a', 'a1'))),
      settle(queue.push(item('b', POISON))),
      settle(queue.push(item('c', 'c1'))),
      settle(queue.push(item('a', 'a2'))),
    ]);
    expect(results).toEqual(['committed', 'refused', 'committed', 'committed']);
    expect(state.committed).toEqual(['a1', 'c1', 'a2']);
    // Sent again by its gateway, it is refused at once instead of stalling the queue again.
    const started = Date.now();
    expect(await settle(queue.push(item('b', POISON)))).toBe('refused');
    expect(Date.now() - started).toBeLessThan(50);
  });

  it('while the database refuses writes nothing is refused: the events wait and commit once it is back', async () => {
    const state = { down: true, committed: [] as string[] };
    let probes = 0;
    const probe = async () => {
      probes++;
      if (state.down) throw new Error('SQLITE_FULL');
    };
    const queue = new IngestQueue(fakeIngest(state), pino({ level: 'silent' }), () => {}, probe);
    const pending = [settle(queue.push(item('a', 'a1'))), settle(queue.push(item('b', 'b1')))];
    await new Promise((r) => setTimeout(r, 1200));
    expect(probes).toBeGreaterThan(0);
    expect(state.committed).toEqual([]);
    state.down = false;
    expect(await Promise.all(pending)).toEqual(['committed', 'committed']);
    expect(state.committed).toEqual(['a1', 'b1']);
  });
});
