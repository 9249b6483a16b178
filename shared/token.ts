/**
 * Rotating attendance tokens — docs/protocol.md §Tokens (contract).
 *
 *   session_key = HMAC-SHA256(room_secret, "att/v1/session|" + session_id)
 *   w           = floor(unix_ms / (period_s * 1000))
 *   token(w)    = HMAC-SHA256(session_key, "att/v1/token|" + uint32_be(w))[0..8]
 *
 * Pure functions, no I/O; the cloud and the gateway both import them.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const ROOM_SECRET_BYTES = 32;
export const TOKEN_BYTES = 8;
export const MIN_PERIOD_S = 10;
export const MAX_PERIOD_S = 3600;
export const DEFAULT_PERIOD_S = 300;
const MAX_WINDOW = 0xffffffff;

export function deriveSessionKey(roomSecret: Uint8Array, sessionId: string): Buffer {
  if (roomSecret.length !== ROOM_SECRET_BYTES) {
    throw new RangeError(`room secret must be ${ROOM_SECRET_BYTES} bytes, got ${roomSecret.length}`);
  }
  return createHmac('sha256', roomSecret).update(`att/v1/session|${sessionId}`, 'utf8').digest();
}

/** Epoch-aligned window index: both sides agree on it without talking. */
export function windowIndex(unixMs: number, periodS: number): number {
  return Math.floor(unixMs / (periodS * 1000));
}

export function windowStartMs(w: number, periodS: number): number {
  return w * periodS * 1000;
}

export function windowEndMs(w: number, periodS: number): number {
  return (w + 1) * periodS * 1000;
}

export function tokenForWindow(sessionKey: Uint8Array, w: number): Buffer {
  if (!Number.isInteger(w) || w < 0 || w > MAX_WINDOW) throw new RangeError(`window must be a uint32, got ${w}`);
  const msg = Buffer.alloc(13 + 4);
  msg.write('att/v1/token|', 0, 'utf8');
  msg.writeUInt32BE(w, 13);
  return createHmac('sha256', sessionKey).update(msg).digest().subarray(0, TOKEN_BYTES);
}

/** Constant-time comparison of a presented token with the expected one. */
export function tokenEquals(expected: Uint8Array, presented: Uint8Array): boolean {
  return presented.length === TOKEN_BYTES && expected.length === TOKEN_BYTES && timingSafeEqual(expected, presented);
}
