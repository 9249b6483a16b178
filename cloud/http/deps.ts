/** Everything the HTTP app needs, built by the composition root (cloud/main.ts) or by tests. */
import type { Logger } from 'pino';
import type { TokenService } from '../auth/jwt.js';
import type { LoginLimiter } from '../auth/login-limiter.js';
import type { RegistrationLimiter } from '../auth/registration-limiter.js';
import type { ProxyTrust } from './client-address.js';
import type { CloudEvents } from '../events.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/db.js';
import type { VerifiedLookup } from '../store/attendance.js';
import type { WebAuthnSettings } from '../webauthn/settings.js';
import type { GatewayHub } from '../bridge/hub.js';
import type { AccountMail } from '../mail/account-mail.js';
import type { OidcSignIn } from '../auth/oidc.js';

export interface AppDeps {
  store: Store;
  tokens: TokenService;
  logger: Logger;
  /** Server time in ms: the only clock that validation trusts. Tests pass a controllable one. */
  clock: () => number;
  loginLimiter: LoginLimiter;
  registrationLimiter: RegistrationLimiter;
  metrics: Metrics;
  events: CloudEvents;
  verifiedLookup: VerifiedLookup;
  /**
   * Relying-party settings and verification window of biometric verification (docs/api.md); the
   * composition root always sets them from the environment. Left out (benchmarks, tools), the
   * feature uses LOCALHOST_WEBAUTHN, under which no real phone's ceremony can succeed.
   */
  webauthn?: WebAuthnSettings;
  /** The room gateways over MQTT; absent with MQTT_DISABLED, then commands only queue. */
  gateways?: GatewayHub;
  /** Mail about accounts (e-mail verification); absent without ATTENDANCE_SMTP_URL, then self-registration is closed. */
  mailer?: AccountMail;
  /** Sign-in through the institution's OpenID provider; absent unless ATTENDANCE_OIDC_* is configured. */
  oidc?: OidcSignIn;
  settings: { timezone: string; openRegistration: boolean; trustProxy: ProxyTrust; tokenTtlS: number };
}
