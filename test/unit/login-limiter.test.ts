import { describe, expect, it } from 'vitest';
import { createLoginLimiter } from '../../cloud/auth/login-limiter.js';

describe('login limiter', () => {
  it('locks a key after the maximum failures and frees it when the window has passed', () => {
    let t = 0;
    const limiter = createLoginLimiter(3, 60, () => t);
    for (let i = 0; i < 3; i++) limiter.recordFailure(['a|1.2.3.4']);
    expect(limiter.retryAfter(['a|1.2.3.4'])).toBe(60);
    expect(limiter.retryAfter(['b|1.2.3.4'])).toBe(0);
    t = 61_000;
    expect(limiter.retryAfter(['a|1.2.3.4'])).toBe(0);
  });

  it('does not keep keys of a spray of distinct accounts once their window has passed', () => {
    let t = 0;
    const limiter = createLoginLimiter(3, 60, () => t);
    for (let i = 0; i < 5000; i++) limiter.recordFailure([`user${i}|10.0.0.1`]);
    expect(limiter.size()).toBeLessThanOrEqual(5000);
    t = 61_000;
    // The table is swept when it doubles past its last sweep (at 8,206 keys here): the expired
    // 5,000 go, only the recent keys remain.
    for (let i = 0; i < 3300; i++) limiter.recordFailure([`next${i}|10.0.0.1`]);
    expect(limiter.size()).toBeLessThanOrEqual(3300);
    expect(limiter.retryAfter(['next0|10.0.0.1'])).toBe(0);
  });
});
