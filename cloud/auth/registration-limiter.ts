/**
 * Self-registration per client network: at most `maxPerHour` attempts in any rolling hour
 * (docs/operations.md, "Login and registration limits"). Every attempt counts, also one that
 * then fails, because each costs a password hash. Memory stays bounded: when the table doubles,
 * networks with nothing in the last hour are swept out.
 */
import { clientNetwork } from '../http/client-address.js';

const HOUR_MS = 3_600_000;

export interface RegistrationLimiter {
  /** Seconds until this address may register again, or 0: then the attempt is counted. */
  attempt(address: string): number;
  /** How many networks are tracked (for tests). */
  size(): number;
}

export function createRegistrationLimiter(maxPerHour: number, now: () => number = Date.now): RegistrationLimiter {
  const attempts = new Map<string, number[]>();
  let sweepAt = 1024;

  function recent(key: string, t: number): number[] {
    const list = (attempts.get(key) ?? []).filter((at) => at > t - HOUR_MS);
    if (list.length === 0) attempts.delete(key);
    else attempts.set(key, list);
    return list;
  }

  return {
    attempt(address) {
      const t = now();
      const key = clientNetwork(address);
      const list = recent(key, t);
      if (list.length >= maxPerHour) return Math.ceil((list[0]! + HOUR_MS - t) / 1000);
      attempts.set(key, [...list, t]);
      if (attempts.size > sweepAt) {
        for (const k of [...attempts.keys()]) recent(k, t);
        sweepAt = Math.max(1024, attempts.size * 2);
      }
      return 0;
    },
    size: () => attempts.size,
  };
}
