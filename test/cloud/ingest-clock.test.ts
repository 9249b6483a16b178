/**
 * Clock skew from heartbeats (over 2 s is flagged, docs/operations.md). A heartbeat that waited in the
 * gateway's outbox while it was offline arrives "late" and must not be mistaken for a clock
 * running behind.
 */
import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_LIMIT_MS, clockSkewFlagged, measuredSkew } from '../../cloud/bridge/heartbeat.js';

const now = Date.UTC(2026, 10, 25, 9, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

describe('clock skew', () => {
  it('is the gateway clock minus the receive time', () => {
    expect(measuredSkew({ online_since: now - 600_000 }, iso(now + 3000), now)).toBe(3000);
    expect(measuredSkew({ online_since: now - 600_000 }, iso(now - 2500), now)).toBe(-2500);
    expect(measuredSkew({ online_since: null }, iso(now + 150), now)).toBe(150);
  });

  it('ignores a heartbeat far behind right after the gateway came back online (it was queued)', () => {
    expect(measuredSkew({ online_since: now - 800 }, iso(now - 45_000), now)).toBeNull();
    // A clock running ahead is never explained by queuing.
    expect(measuredSkew({ online_since: now - 800 }, iso(now + 45_000), now)).toBe(45_000);
    // Long after the reconnect, a clock behind is a clock behind.
    expect(measuredSkew({ online_since: now - 60_000 }, iso(now - 45_000), now)).toBe(-45_000);
  });

  it('flags only beyond ±2 s', () => {
    expect(CLOCK_SKEW_LIMIT_MS).toBe(2000);
    expect([null, 0, 2000, -2000, 2001, -2001].map(clockSkewFlagged)).toEqual([false, false, false, false, true, true]);
  });
});
