/**
 * The phone's side of the GATT check-in — docs/protocol.md §Proof of proximity, "What the phone
 * app does". A reference for the apps and the tests: what the phone registers at enrolment and
 * how it answers the challenge it reads from the gateway. Pure functions, no radio.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Frame } from './frame.js';
import {
  KEY_ID_LENGTH, checkinMessage, decodeChallenge, encodeCheckin, keyIdOf, signCheckin, type Decoded,
} from './checkin.js';

/** What the phone sends with its passkey registration (`checkin_key`), and the key_id it will write. */
/**
 * How long a phone waits after a failed link before it listens for the room again: from 50 ms,
 * doubling to 1 s, spread ±50 % so that phones that lost the same advertising event (0x3E) do not
 * answer the next one together (docs/api.md, "Proof of proximity").
 */
export const CHECKIN_RETRY_BACKOFF = { minMs: 50, maxMs: 1_000, jitter: 0.5 } as const;

export function checkinKeyOf(privateKey: KeyObject): { checkinKey: string; keyId: Buffer } {
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return { checkinKey: spki.toString('base64url'), keyId: keyIdOf(spki) };
}

export interface ChallengeAnswer {
  /** The 25 bytes read from the challenge characteristic. */
  challenge: Uint8Array;
  /** The frame the phone heard in the gateway's advertisement (findAttendanceFrame). */
  advertised: Frame;
  /** The device-bound P-256 check-in key. */
  privateKey: KeyObject;
  keyId: Buffer;
}

/**
 * The 97 bytes to write to the check-in characteristic. Refuses (with a reason) a challenge that
 * does not decode, or whose room or window is not the advertisement's: the phone then signs
 * nothing, since the gateway it is connected to is not the one it heard, or the window turned
 * over meanwhile (scan again and reconnect).
 */
export function answerChallenge(a: ChallengeAnswer): Decoded<Buffer> {
  const decoded = decodeChallenge(a.challenge);
  if (!decoded.ok) return decoded;
  const c = decoded.value;
  if (c.roomCode !== a.advertised.roomCode) {
    return { ok: false, reason: `challenge is for room ${c.roomCode}, the advertisement for room ${a.advertised.roomCode}` };
  }
  if (c.w !== a.advertised.w) return { ok: false, reason: `challenge is for window ${c.w}, the advertisement for window ${a.advertised.w}` };
  if (a.keyId.length !== KEY_ID_LENGTH) return { ok: false, reason: `key_id must be ${KEY_ID_LENGTH} bytes, got ${a.keyId.length}` };
  try {
    const signature = signCheckin(a.privateKey, checkinMessage(c.roomCode, c.w, c.nonce, a.advertised.token));
    return { ok: true, value: encodeCheckin({ keyId: a.keyId, nonce: c.nonce, signature }) };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}
