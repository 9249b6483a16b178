/** Self-registration per client network: N in any rolling hour, Retry-After until the oldest leaves it, bounded memory. */
import { describe, expect, it } from 'vitest';
import { createRegistrationLimiter } from '../../cloud/auth/registration-limiter.js';

describe('registration limiter', () => {
  it('allows N per rolling hour per network and says when the next one is allowed', () => {
    const clock = { t: 0 };
    const limiter = createRegistrationLimiter(3, () => clock.t);
    expect(limiter.attempt('203.0.113.7')).toBe(0);
    clock.t = 600_000;
    expect(limiter.attempt('203.0.113.7')).toBe(0);
    expect(limiter.attempt('203.0.113.7')).toBe(0);
    expect(limiter.attempt('203.0.113.7')).toBe(3000);
    expect(limiter.attempt('::ffff:203.0.113.7')).toBe(3000);
    expect(limiter.attempt('203.0.113.8')).toBe(0);
    clock.t = 3_600_001;
    expect(limiter.attempt('203.0.113.7')).toBe(0);
    expect(limiter.attempt('203.0.113.7')).toBe(600);
  });

  it('sweeps networks with nothing in the last hour', () => {
    const clock = { t: 0 };
    const limiter = createRegistrationLimiter(3, () => clock.t);
    for (let round = 0; round < 6; round++) {
      clock.t = round * 3_601_000;
      for (let i = 0; i < 3000; i++) limiter.attempt(`10.${round}.${i >> 8}.${i & 255}`);
      expect(limiter.size()).toBeLessThanOrEqual(2 * 3000 + 1);
    }
  });
});
