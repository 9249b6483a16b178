/** Everything the HTTP app needs, built by the composition root (cloud/main.ts) or by tests. */
import type { Logger } from 'pino';
import type { TokenService } from '../auth/jwt.js';
import type { LoginLimiter } from '../auth/login-limiter.js';
import type { CloudEvents } from '../events.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/db.js';
import type { VerifiedLookup } from '../store/attendance.js';

export interface AppDeps {
  store: Store;
  tokens: TokenService;
  logger: Logger;
  /** Server time in ms: the only clock that validation trusts. Tests pass a controllable one. */
  clock: () => number;
  loginLimiter: LoginLimiter;
  metrics: Metrics;
  events: CloudEvents;
  verifiedLookup: VerifiedLookup;
  settings: { timezone: string; openRegistration: boolean; trustProxy: boolean; tokenTtlS: number };
}
