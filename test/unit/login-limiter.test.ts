/** The login limiter's promises: N failures in the window block, the window frees, memory stays bounded. */
import { describe, expect, it } from 'vitest';
import { createLoginLimiter } from '../../cloud/auth/login-limiter.js';

const KEY = ['a@uni.example|1.2.3.4'];

function limiterAt(maxAttempts: number, windowS: number) {
  const clock = { t: 0 };
  return { clock, limiter: createLoginLimiter(maxAttempts, windowS, () => clock.t) };
}

describe('login limiter', () => {
  it('allows max - 1 failures, blocks at the max until the first failure leaves the window', () => {
    const { clock, limiter } = limiterAt(3, 60);
    limiter.recordFailure(KEY);
    clock.t = 10_000;
    limiter.recordFailure(KEY);
    expect(limiter.retryAfter(KEY)).toBe(0);
    clock.t = 20_000;
    limiter.recordFailure(KEY);
    // Blocked until the first failure (t = 0) is 60 s old.
    expect(limiter.retryAfter(KEY)).toBe(40);
    clock.t = 59_500;
    expect(limiter.retryAfter(KEY)).toBe(1);
    // Other accounts and addresses are not affected.
    expect(limiter.retryAfter(['b@uni.example|1.2.3.4'])).toBe(0);
    expect(limiter.retryAfter(['a@uni.example|5.6.7.8'])).toBe(0);
    // The window slides: at 60 s only two failures are inside it, so one more attempt is allowed.
    clock.t = 60_000;
    expect(limiter.retryAfter(KEY)).toBe(0);
    limiter.recordFailure(KEY);
    expect(limiter.retryAfter(KEY)).toBe(10);
    // Once every failure has left the window, the key is free again.
    clock.t = 121_000;
    expect(limiter.retryAfter(KEY)).toBe(0);
    expect(limiter.size()).toBe(0);
  });

  it('answers the longest wait of several keys, and a reset frees them', () => {
    const { clock, limiter } = limiterAt(2, 60);
    const keys = ['a|1.2.3.4', 'b|1.2.3.4'];
    limiter.recordFailure(['a|1.2.3.4']);
    clock.t = 30_000;
    limiter.recordFailure(keys);
    limiter.recordFailure(keys);
    expect(limiter.retryAfter(['a|1.2.3.4'])).toBe(60);
    expect(limiter.retryAfter(['b|1.2.3.4'])).toBe(60);
    clock.t = 45_000;
    // a's two most recent failures are at 30 s: blocked until 90 s, as is b.
    expect(limiter.retryAfter(keys)).toBe(45);
    limiter.reset(keys);
    expect(limiter.retryAfter(keys)).toBe(0);
    expect(limiter.size()).toBe(0);
  });

  it('sweeps expired keys, so a spray of distinct accounts keeps the table bounded', () => {
    const { clock, limiter } = limiterAt(3, 60);
    const perWindow = 3000;
    let peak = 0;
    for (let round = 0; round < 12; round++) {
      clock.t = round * 61_000;
      for (let i = 0; i < perWindow; i++) {
        limiter.recordFailure([`user${round}-${i}|10.0.0.1`]);
        peak = Math.max(peak, limiter.size());
      }
      // Nothing older than the window survives a sweep: at most the keys of the last two rounds.
      expect(limiter.size()).toBeLessThanOrEqual(2 * perWindow);
    }
    // 36,000 distinct keys were sprayed; the table never held much more than one window's worth twice.
    expect(peak).toBeLessThanOrEqual(2 * perWindow + 1);
    // The live keys are still limited: the sweep removed only expired ones.
    const last = `user11-0|10.0.0.1`;
    limiter.recordFailure([last]);
    limiter.recordFailure([last]);
    expect(limiter.retryAfter([last])).toBe(60);
  });
});
