import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay } from '../../shared/backoff.js';

describe('backoff', () => {
  it('doubles from min and stops at max', () => {
    const b = new Backoff({ minMs: 500, maxMs: 30_000 });
    expect(Array.from({ length: 8 }, () => b.next())).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(b.failures).toBe(8);
  });

  it('starts again at min after reset', () => {
    const b = new Backoff({ minMs: 100, maxMs: 5000 });
    b.next();
    b.next();
    b.reset();
    expect(b.failures).toBe(0);
    expect(b.next()).toBe(100);
  });

  it('uses the given factor', () => {
    expect([0, 1, 2].map((a) => backoffDelay(a, { minMs: 10, maxMs: 1000, factor: 3 }))).toEqual([10, 30, 90]);
  });

  it('spreads by ±jitter around the capped delay', () => {
    const opts = { minMs: 1000, maxMs: 4000, jitter: 0.25 };
    expect(backoffDelay(5, { ...opts, random: () => 0 })).toBe(3000);
    expect(backoffDelay(5, { ...opts, random: () => 0.5 })).toBe(4000);
    expect(backoffDelay(5, { ...opts, random: () => 0.999_999 })).toBe(5000);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(0, opts);
      expect(d).toBeGreaterThanOrEqual(750);
      expect(d).toBeLessThanOrEqual(1250);
    }
  });

  it('stays finite after very many failures', () => {
    expect(backoffDelay(10_000, { minMs: 1, maxMs: 60_000 })).toBe(60_000);
    expect(backoffDelay(10_000, { minMs: 0, maxMs: 60_000 })).toBe(0);
  });
});
