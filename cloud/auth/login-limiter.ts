/**
 * Brute-force protection for password checks (docs/operations.md, "Login and registration limits").
 * Failures are counted in three scopes: per account and address, per account (any address) and
 * per address (any account); unknown accounts count like real ones. A scope over its limit makes
 * the next attempt wait 1 s, and each further failure doubles the wait up to `maxWaitS`; attempts
 * refused meanwhile are not checked and not counted. A counter is forgotten `windowS` after its
 * wait ended.
 *
 * So that an attacker cannot lock the owner out, a success resets only its own (account, address)
 * counter and makes that pair known for `knownForS`: a known pair is limited by its own counter
 * alone, so the owner still logs in from where they logged in before while the account is blocked
 * for everyone else. The account limit is meant to be higher than the pair's, so one person's
 * typos stop at their own pair first.
 *
 * Memory stays bounded: when a table doubles, forgotten counters are swept out, and at most
 * `maxKnown` known pairs are kept (the oldest go first).
 */
import { clientNetwork } from '../http/client-address.js';

export interface LoginAttempt {
  /** The account as typed (normalised), whether or not it exists. */
  account: string;
  /** The client address (ctx.ip). */
  address: string;
}

export interface LoginLimits {
  /** Failures per account and address before the back-off starts. */
  perPair: number;
  /** Failures per account from any address. */
  perAccount: number;
  /** Failures per address for any account. */
  perAddress: number;
  /** A counter is forgotten this long after its wait ended. */
  windowS: number;
  /** The longest wait. */
  maxWaitS: number;
  knownForS?: number;
  maxKnown?: number;
}

export interface LoginLimiter {
  /**
   * Seconds the attempt must wait, or 0: then the check may run, and it counts as a failure of
   * the pair and the account until `succeeded` says otherwise — so parallel guesses cannot all
   * pass before the first failure lands.
   */
  attempt(a: LoginAttempt): number;
  /** The check failed. */
  failed(a: LoginAttempt): void;
  /** The check succeeded: the pair's counter is reset and the pair becomes known. */
  succeeded(a: LoginAttempt): void;
  /** How many counters and known pairs are held (for tests). */
  size(): number;
}

interface Counter {
  failures: number;
  /** When the last failure was counted (ms). */
  at: number;
}

/** Failure counters of one scope, with the back-off. */
class Scope {
  private readonly counters = new Map<string, Counter>();
  private sweepAt = 1024;

  constructor(
    private readonly limit: number,
    private readonly limits: LoginLimits,
  ) {}

  /** When the key may try again (ms); a counter whose wait ended `windowS` ago is dropped. */
  private blockedUntil(key: string, now: number): number {
    const c = this.counters.get(key);
    if (!c) return 0;
    const until = c.at + this.waitMs(c.failures);
    if (now >= until + this.limits.windowS * 1000) {
      this.counters.delete(key);
      return 0;
    }
    return until;
  }

  private waitMs(failures: number): number {
    if (failures < this.limit) return 0;
    return Math.min(this.limits.maxWaitS, 2 ** Math.min(failures - this.limit, 30)) * 1000;
  }

  retryAfterS(key: string, now: number): number {
    return Math.max(0, Math.ceil((this.blockedUntil(key, now) - now) / 1000));
  }

  fail(key: string, now: number): void {
    this.blockedUntil(key, now);
    const c = this.counters.get(key) ?? { failures: 0, at: now };
    this.counters.set(key, { failures: c.failures + 1, at: now });
    if (this.counters.size > this.sweepAt) this.sweep(now);
  }

  /** Takes back a failure counted ahead of a check that then succeeded. */
  refund(key: string): void {
    const c = this.counters.get(key);
    if (!c) return;
    if (c.failures <= 1) this.counters.delete(key);
    else c.failures--;
  }

  reset(key: string): void {
    this.counters.delete(key);
  }

  size(): number {
    return this.counters.size;
  }

  private sweep(now: number): void {
    for (const key of [...this.counters.keys()]) this.blockedUntil(key, now);
    this.sweepAt = Math.max(1024, this.counters.size * 2);
  }
}

export function createLoginLimiter(limits: LoginLimits, now: () => number = Date.now): LoginLimiter {
  const knownForMs = (limits.knownForS ?? 30 * 86_400) * 1000;
  const maxKnown = limits.maxKnown ?? 100_000;
  const pairs = new Scope(limits.perPair, limits);
  const accounts = new Scope(limits.perAccount, limits);
  const addresses = new Scope(limits.perAddress, limits);
  /** Known pairs → until when (ms), oldest first. */
  const known = new Map<string, number>();

  const keysOf = (a: LoginAttempt) => {
    const network = clientNetwork(a.address);
    return { pair: `${a.account}\n${network}`, account: a.account, address: network };
  };
  function isKnown(pair: string, t: number): boolean {
    const until = known.get(pair);
    if (until === undefined) return false;
    if (until > t) return true;
    known.delete(pair);
    return false;
  }

  return {
    attempt(a) {
      const t = now();
      const k = keysOf(a);
      const trusted = isKnown(k.pair, t);
      const wait = Math.max(
        pairs.retryAfterS(k.pair, t),
        trusted ? 0 : accounts.retryAfterS(k.account, t),
        trusted ? 0 : addresses.retryAfterS(k.address, t),
      );
      if (wait > 0) return wait;
      pairs.fail(k.pair, t);
      if (!trusted) accounts.fail(k.account, t);
      return 0;
    },
    failed(a) {
      const t = now();
      const k = keysOf(a);
      if (!isKnown(k.pair, t)) addresses.fail(k.address, t);
    },
    succeeded(a) {
      const t = now();
      const k = keysOf(a);
      pairs.reset(k.pair);
      if (!isKnown(k.pair, t)) accounts.refund(k.account);
      known.delete(k.pair);
      known.set(k.pair, t + knownForMs);
      for (const oldest of known.keys()) {
        if (known.size <= maxKnown) break;
        known.delete(oldest);
      }
    },
    size: () => pairs.size() + accounts.size() + addresses.size() + known.size,
  };
}
