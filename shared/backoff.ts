/**
 * Exponential backoff between retries: min · factor^attempt, capped at max, optionally spread by
 * ±jitter so that many clients failing together (a building's gateways after a broker outage) do
 * not retry in lockstep. Pure: the caller owns the timer.
 */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** Growth per attempt; 2 unless given. */
  factor?: number;
  /** Fraction of the delay to spread by, both ways (0.25: ×0.75…×1.25); applied after the cap. */
  jitter?: number;
  random?: () => number;
}

/** The delay before retry number `attempt` (0 = the first retry), in whole ms. */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  // The exponent is bounded so a long outage cannot overflow to Infinity (0 · Infinity is NaN).
  const base = Math.min(opts.maxMs, opts.minMs * (opts.factor ?? 2) ** Math.min(Math.max(0, attempt), 64));
  const jitter = opts.jitter ?? 0;
  const spread = jitter ? 1 - jitter + (opts.random ?? Math.random)() * 2 * jitter : 1;
  return Math.round(base * spread);
}

/** Counts the failures since the last success. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly opts: BackoffOptions) {}

  /** The delay before the next retry; each call counts one more failure. */
  next(): number {
    return backoffDelay(this.attempt++, this.opts);
  }

  /** After a success: the next failure waits minMs again. */
  reset(): void {
    this.attempt = 0;
  }

  /** Failures counted since the last reset. */
  get failures(): number {
    return this.attempt;
  }
}
