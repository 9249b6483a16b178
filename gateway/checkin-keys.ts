/**
 * Applies one part of `checkin_keys.set` (docs/protocol.md §The session's check-in keys,
 * docs/gateway.md §The session's check-in keys): the cloud's list of the public check-in keys of
 * the students enrolled in the session's course whose device is active. A part is kept until every
 * part of its set arrived; the set then replaces the session's set in use, once the digest of what
 * was assembled is the one the parts name. Every key must be a canonical P-256 SPKI whose id is
 * the id it is sent with. Only the live session takes keys; they are dropped when it ends
 * (gateway/sessions.ts).
 */
import { parseCheckinKey } from '../shared/checkin.js';
import { keySetDigest } from '../shared/mqtt/checkin-keys.js';
import type { CommandData } from '../shared/mqtt/messages.js';
import type { StoredCheckinKey } from './store/checkin-keys.js';
import type { GatewayStore } from './store/store.js';

export class CheckinKeysError extends Error {
  constructor(
    readonly code: 'unknown_session' | 'session_not_live' | 'invalid_key' | 'digest_mismatch',
    message: string,
  ) {
    super(message);
    this.name = 'CheckinKeysError';
  }
}

export type KeySetProgress = { state: 'staged'; received: number; parts: number } | { state: 'in_use'; keys: number };

/** Call inside the command's transaction; throws CheckinKeysError for a part the gateway refuses. */
export function applyKeySetPart(store: GatewayStore, d: CommandData<'checkin_keys.set'>, nowMs: number): KeySetProgress {
  const session = store.sessions.get(d.session_id);
  if (!session) throw new CheckinKeysError('unknown_session', `unknown session ${d.session_id}`);
  if (session.endedAt !== null) throw new CheckinKeysError('session_not_live', `session ${d.session_id} has ended`);
  if (store.checkinKeys.digest(d.session_id) === d.digest) return { state: 'in_use', keys: store.checkinKeys.count(d.session_id) };

  const keys: StoredCheckinKey[] = d.keys.map((k, i) => {
    const parsed = parseCheckinKey(k.key);
    if (!parsed.ok) throw new CheckinKeysError('invalid_key', `keys[${i}]: ${parsed.reason}`);
    if (parsed.value.keyId.toString('hex') !== k.key_id) throw new CheckinKeysError('invalid_key', `keys[${i}]: key_id is not the id of its key`);
    return { keyId: k.key_id, spki: k.key };
  });
  store.checkinKeys.stagePart(d.session_id, d.digest, d.part, d.parts, keys);

  const staged = store.checkinKeys.stagedParts(d.session_id, d.digest, d.parts);
  if (staged.length < d.parts) return { state: 'staged', received: staged.length, parts: d.parts };
  const all = staged.flatMap((p) => p.keys);
  if (keySetDigest(all.map((k) => k.keyId)) !== d.digest) {
    throw new CheckinKeysError('digest_mismatch', `the ${all.length} keys received for set ${d.digest} do not have its digest`);
  }
  store.checkinKeys.replaceSet(d.session_id, d.digest, all, nowMs);
  return { state: 'in_use', keys: all.length };
}
