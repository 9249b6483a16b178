/**
 * Brute-force protection for /auth/token: at most `maxAttempts` failed logins per account and per
 * client address within a sliding window. Memory stays bounded under a spray of distinct
 * accounts: when the table doubles, entries whose window has passed are swept out.
 */
export interface LoginLimiter {
  /** Seconds until another attempt is allowed for these keys, or 0 when allowed. */
  retryAfter(keys: string[]): number;
  recordFailure(keys: string[]): void;
  reset(keys: string[]): void;
  /** How many keys are tracked (for metrics and tests). */
  size(): number;
}

export function createLoginLimiter(maxAttempts: number, windowS: number, now: () => number = Date.now): LoginLimiter {
  const failures = new Map<string, number[]>();
  const windowMs = windowS * 1000;
  let sweepAt = 1024;

  function sweep(): void {
    const cutoff = now() - windowMs;
    for (const [key, list] of failures) if (list[list.length - 1]! <= cutoff) failures.delete(key);
    sweepAt = Math.max(1024, failures.size * 2);
  }

  function recent(key: string): number[] {
    const cutoff = now() - windowMs;
    const list = (failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) failures.delete(key);
    else failures.set(key, list);
    return list;
  }

  return {
    retryAfter(keys) {
      let wait = 0;
      for (const key of keys) {
        const list = recent(key);
        if (list.length >= maxAttempts) wait = Math.max(wait, Math.ceil((list[0]! + windowMs - now()) / 1000));
      }
      return wait;
    },
    recordFailure(keys) {
      for (const key of keys) {
        const list = recent(key);
        list.push(now());
        failures.set(key, list.slice(-maxAttempts));
      }
      if (failures.size > sweepAt) sweep();
    },
    reset(keys) {
      for (const key of keys) failures.delete(key);
    },
    size: () => failures.size,
  };
}
