/**
 * The login limiter's promises: three scopes (pair, account, address), exponential back-off up to
 * a cap, counters forgotten after the window, the owner not locked out where they logged in
 * before, parallel guesses counted before their check, and bounded memory.
 */
import { describe, expect, it } from 'vitest';
import { createLoginLimiter, type LoginAttempt, type LoginLimiter, type LoginLimits } from '../../cloud/auth/login-limiter.js';

const LIMITS: LoginLimits = { perPair: 3, perAccount: 6, perAddress: 10, windowS: 60, maxWaitS: 8 };

function limiterAt(limits: Partial<LoginLimits> = {}) {
  const clock = { t: 0 };
  return { clock, limiter: createLoginLimiter({ ...LIMITS, ...limits }, () => clock.t) };
}

/** One wrong password: the wait it had to honour first (0: it was checked and failed). */
function wrong(limiter: LoginLimiter, a: LoginAttempt): number {
  const wait = limiter.attempt(a);
  if (wait === 0) limiter.failed(a);
  return wait;
}

function right(limiter: LoginLimiter, a: LoginAttempt): number {
  const wait = limiter.attempt(a);
  if (wait === 0) limiter.succeeded(a);
  return wait;
}

const A = { account: 'a@uni.example', address: '198.51.100.1' };

describe('login limiter', () => {
  it('lets perPair failures through, then doubles the wait with each further failure up to the cap', () => {
    const { clock, limiter } = limiterAt();
    for (let i = 0; i < 3; i++) expect(wrong(limiter, A)).toBe(0);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const wait = limiter.attempt(A);
      waits.push(wait);
      // Refused attempts are not checked and not counted: asking again changes nothing.
      expect(limiter.attempt(A)).toBe(wait);
      clock.t += wait * 1000;
      expect(wrong(limiter, A)).toBe(0);
    }
    expect(waits).toEqual([1, 2, 4, 8, 8, 8]);
  });

  it('forgets a counter a window after its wait ended', () => {
    const { clock, limiter } = limiterAt();
    for (let i = 0; i < 3; i++) wrong(limiter, A);
    clock.t += 1000;
    expect(wrong(limiter, A)).toBe(0);
    expect(limiter.attempt(A)).toBe(2);
    // The wait ended 59 s ago: the counter is remembered, one more failure doubles the wait.
    clock.t += 2000 + 59_000;
    expect(wrong(limiter, A)).toBe(0);
    expect(limiter.attempt(A)).toBe(4);
    // A window (60 s) after the wait ended it is forgotten: perPair failures are free again.
    clock.t += 4000 + 60_000;
    for (let i = 0; i < 3; i++) expect(wrong(limiter, A)).toBe(0);
    expect(limiter.attempt(A)).toBe(1);
  });

  it('slows failures across many accounts from one address, unknown accounts counting like real ones', () => {
    const { limiter } = limiterAt();
    for (let i = 0; i < 10; i++) expect(wrong(limiter, { account: `nobody${i % 5}@uni.example`, address: A.address })).toBe(0);
    expect(limiter.attempt({ account: 'fresh@uni.example', address: A.address })).toBe(1);
    // The same accounts from elsewhere are not slowed: no account reached its own limit.
    expect(limiter.attempt({ account: 'nobody0@uni.example', address: '203.0.113.9' })).toBe(0);
  });

  it('counts an IPv6 client by its /64, so rotating the host part does not help', () => {
    const { limiter } = limiterAt();
    for (let i = 0; i < 10; i++) wrong(limiter, { account: `u${i}@uni.example`, address: `2001:db8:1:2::${(i + 1).toString(16)}` });
    expect(limiter.attempt({ account: 'v@uni.example', address: '2001:db8:1:2:ffff::1' })).toBe(1);
    expect(limiter.attempt({ account: 'v@uni.example', address: '2001:db8:1:3::1' })).toBe(0);
  });

  it('blocks an account for every unknown address once it failed perAccount times from anywhere', () => {
    const { limiter } = limiterAt();
    for (let i = 0; i < 6; i++) expect(wrong(limiter, { account: A.account, address: `192.0.2.${i}` })).toBe(0);
    expect(limiter.attempt({ account: A.account, address: '192.0.2.200' })).toBe(1);
  });

  it('lets the owner in from an address they logged in from, and a success there resets only that pair', () => {
    const { limiter } = limiterAt();
    const home = { account: A.account, address: '192.0.2.77' };
    expect(right(limiter, home)).toBe(0);
    for (let i = 0; i < 10; i++) wrong(limiter, { account: A.account, address: `192.0.2.${i}` });
    expect(limiter.attempt({ account: A.account, address: '192.0.2.200' })).toBeGreaterThan(0);
    // The account is blocked for strangers, not for its owner at home …
    expect(right(limiter, home)).toBe(0);
    // … and that success did not clear the account's counter for anyone else.
    expect(limiter.attempt({ account: A.account, address: '192.0.2.200' })).toBeGreaterThan(0);
    // A known pair is still limited by its own counter.
    for (let i = 0; i < 3; i++) expect(wrong(limiter, home)).toBe(0);
    expect(limiter.attempt(home)).toBe(1);
  });

  it('a success does not reset the address counter, so an attacker cannot clear it with an account of their own', () => {
    const { limiter } = limiterAt();
    for (let i = 0; i < 9; i++) wrong(limiter, { account: `victim${i}@uni.example`, address: A.address });
    expect(right(limiter, { account: 'own@uni.example', address: A.address })).toBe(0);
    expect(wrong(limiter, { account: 'victim9@uni.example', address: A.address })).toBe(0);
    expect(limiter.attempt({ account: 'victim0@uni.example', address: A.address })).toBe(1);
  });

  it('counts an attempt before its check, so parallel guesses cannot all pass before the first failure lands', () => {
    const { limiter } = limiterAt();
    const admitted = Array.from({ length: 20 }, () => limiter.attempt(A)).filter((w) => w === 0).length;
    expect(admitted).toBe(3);
    // A success takes its own provisional failure back.
    const { limiter: fresh } = limiterAt();
    for (let i = 0; i < 10; i++) expect(right(fresh, { account: A.account, address: `192.0.2.${i}` })).toBe(0);
    expect(fresh.attempt({ account: A.account, address: '192.0.2.200' })).toBe(0);
  });

  it('keeps memory bounded under a spray of distinct accounts and addresses', () => {
    const { clock, limiter } = limiterAt();
    const perWindow = 3000;
    for (let round = 0; round < 8; round++) {
      clock.t = round * 61_000;
      for (let i = 0; i < perWindow; i++) wrong(limiter, { account: `user${round}-${i}@uni.example`, address: `10.${round}.${i >> 8}.${i & 255}` });
      // Each failure holds three counters (pair, account, address); sweeps drop the expired rounds.
      expect(limiter.size()).toBeLessThanOrEqual(3 * (2 * perWindow + 1));
    }
    // The live counters are still there: the sweep removed only forgotten ones.
    const last = { account: 'user7-0@uni.example', address: '10.7.0.0' };
    for (let i = 0; i < 2; i++) wrong(limiter, last);
    expect(limiter.attempt(last)).toBe(1);
  });

  it('keeps at most maxKnown known pairs', () => {
    const { limiter } = limiterAt({ maxKnown: 100 });
    for (let i = 0; i < 500; i++) expect(right(limiter, { account: `known${i}@uni.example`, address: '10.99.0.1' })).toBe(0);
    expect(limiter.size()).toBe(100);
  });
});
