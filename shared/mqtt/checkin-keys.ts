/**
 * The session's check-in keys as the cloud sends them to the room's gateway (`checkin_keys.set`,
 * docs/protocol.md §The session's check-in keys): the public keys of the students enrolled in the
 * session's course whose device is active, and nothing else about them. The whole set is sent
 * each time, sorted by key id and cut into parts small enough for one MQTT message each; the
 * parts of one set share its digest, and the gateway uses the set once every part arrived and the
 * digest of what it assembled matches.
 */
import { createHash } from 'node:crypto';
import type { CommandData } from './messages.js';

/** The layout of the command's data; a gateway refuses any other (`invalid_data`). */
export const CHECKIN_KEYS_VERSION = 1;
/**
 * Keys per part: one key is about 160 bytes of JSON, so a full part is about 32 KiB, half the
 * 64 KiB both sides accept (MAX_PAYLOAD_BYTES in shared/mqtt/topics.ts).
 */
export const KEYS_PER_PART = 200;
/** At most this many parts: 10 000 keys a session. A larger set is not sent (the gateway then queues everything). */
export const MAX_KEY_SET_PARTS = 50;

export interface CheckinKeyEntry {
  /** 32 lowercase hex characters: the first 16 bytes of SHA-256 over the key's SPKI DER. */
  key_id: string;
  /** The `checkin_key` as enrolled: base64url of the SPKI DER (shared/checkin.ts). */
  key: string;
}

export type CheckinKeysPart = CommandData<'checkin_keys.set'>;

/** The digest of a set: the first 16 bytes of SHA-256 over its sorted key ids, one per line, as hex. */
export function keySetDigest(keyIds: Iterable<string>): string {
  const sorted = [...keyIds].sort();
  return createHash('sha256').update(sorted.join('\n')).digest().subarray(0, 16).toString('hex');
}

/**
 * The parts of a set, in order; one part with no keys for an empty set. Null when the set needs
 * more than MAX_KEY_SET_PARTS parts.
 */
export function keySetParts(sessionId: string, keys: readonly CheckinKeyEntry[]): CheckinKeysPart[] | null {
  const sorted = [...keys].sort((a, b) => (a.key_id < b.key_id ? -1 : a.key_id > b.key_id ? 1 : 0));
  const parts = Math.max(1, Math.ceil(sorted.length / KEYS_PER_PART));
  if (parts > MAX_KEY_SET_PARTS) return null;
  const digest = keySetDigest(sorted.map((k) => k.key_id));
  return Array.from({ length: parts }, (_, part) => ({
    v: CHECKIN_KEYS_VERSION,
    session_id: sessionId,
    digest,
    part,
    parts,
    keys: sorted.slice(part * KEYS_PER_PART, (part + 1) * KEYS_PER_PART).map((k) => ({ key_id: k.key_id, key: k.key })),
  }));
}
