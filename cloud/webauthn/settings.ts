/**
 * Relying-party settings of the WebAuthn feature and the verification window of a session.
 * Built from the environment by cloud/config.ts, passed in through AppDeps.
 */

export interface VerificationWindow {
  /** A verification counts from this long before the session's end… */
  opensBeforeEndS: number;
  /** …until this long after it. */
  closesAfterEndS: number;
}

export interface WebAuthnSettings {
  /** RP ID (WebAuthn L2 §4, "RP ID"): the origins' host or a registrable domain suffix of it. */
  rpId: string;
  rpName: string;
  /** Exact origins (scheme://host[:port]) the app and web client run on (L2 §7.1 / §7.2 origin checks). */
  origins: string[];
  window: VerificationWindow;
  /** How long an issued challenge stays usable (L2 §13.4.3 wants challenges short-lived). */
  challengeTtlS: number;
}

export const DEFAULT_WINDOW: VerificationWindow = { opensBeforeEndS: 600, closesAfterEndS: 900 };
export const DEFAULT_CHALLENGE_TTL_S = 300;

/** Development relying party (http://localhost is a secure context for WebAuthn). */
export const LOCALHOST_WEBAUTHN: WebAuthnSettings = {
  rpId: 'localhost', rpName: 'Classroom attendance (development)', origins: ['http://localhost:8000'], window: DEFAULT_WINDOW, challengeTtlS: DEFAULT_CHALLENGE_TTL_S,
};

/** The interval [from, to] (ms) in which a verification counts for a session ending at `endMs`. */
export function windowAround(endMs: number, w: VerificationWindow): { from: number; to: number } {
  return { from: endMs - w.opensBeforeEndS * 1000, to: endMs + w.closesAfterEndS * 1000 };
}

/**
 * Whether `rpId` may be used from `origin`: the RP ID must equal the origin's host or be a
 * registrable domain suffix of it (the rp.id check of WebAuthn L2 §5.1.3, done again here so a
 * misconfiguration stops the process at start). No public-suffix list: a dot boundary is required
 * so "evil-uni.example" cannot claim "uni.example", and the operator must not pick a bare TLD.
 */
export function rpIdFitsOrigin(rpId: string, origin: string): boolean {
  let host: string;
  try {
    host = new URL(origin).hostname;
  } catch {
    return false;
  }
  return host === rpId || host.endsWith(`.${rpId}`);
}
