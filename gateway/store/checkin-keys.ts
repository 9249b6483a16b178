/**
 * The check-in keys of a session as the cloud sent them (`checkin_keys.set`): the set in use and
 * the parts of a set still arriving. gateway/checkin-keys.ts decides what goes in; the check-in
 * service (gateway/ble/checkin-service.ts) reads it.
 */
import type { Db } from './open.js';

export interface StoredCheckinKey {
  keyId: string;
  /** base64url of the SPKI DER. */
  spki: string;
}

/** What the gateway knows of a key for a session: no set at all, a set without it, or its public key. */
export type KeyLookup = { set: false } | { set: true; spki: string | null };

export class CheckinKeyRepo {
  private readonly setStmt;
  private readonly keyStmt;
  private readonly countStmt;
  private readonly stageStmt;
  private readonly stagedStmt;
  private readonly insertSetStmt;
  private readonly insertKeyStmt;
  private readonly dropKeysStmt;
  private readonly dropSetStmt;
  private readonly dropPartsStmt;

  constructor(db: Db) {
    this.setStmt = db.prepare<[string], { digest: string }>('SELECT digest FROM checkin_key_sets WHERE session_id = ?');
    this.keyStmt = db.prepare<[string, string], { spki: string }>('SELECT spki FROM checkin_keys WHERE session_id = ? AND key_id = ?');
    this.countStmt = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM checkin_keys WHERE session_id = ?');
    this.stageStmt = db.prepare<[string, string, number, number, string]>(
      'INSERT OR REPLACE INTO checkin_key_parts (session_id, digest, part, parts, keys) VALUES (?, ?, ?, ?, ?)',
    );
    this.stagedStmt = db.prepare<[string, string, number], { part: number; keys: string }>(
      'SELECT part, keys FROM checkin_key_parts WHERE session_id = ? AND digest = ? AND parts = ? ORDER BY part',
    );
    this.insertSetStmt = db.prepare<[string, string, number]>('INSERT INTO checkin_key_sets (session_id, digest, received_at) VALUES (?, ?, ?)');
    this.insertKeyStmt = db.prepare<[string, string, string]>('INSERT OR IGNORE INTO checkin_keys (session_id, key_id, spki) VALUES (?, ?, ?)');
    this.dropKeysStmt = db.prepare<[string]>('DELETE FROM checkin_keys WHERE session_id = ?');
    this.dropSetStmt = db.prepare<[string]>('DELETE FROM checkin_key_sets WHERE session_id = ?');
    this.dropPartsStmt = db.prepare<[string]>('DELETE FROM checkin_key_parts WHERE session_id = ?');
  }

  lookup(sessionId: string, keyIdHex: string): KeyLookup {
    if (!this.setStmt.get(sessionId)) return { set: false };
    return { set: true, spki: this.keyStmt.get(sessionId, keyIdHex)?.spki ?? null };
  }

  /** The digest of the set in use for the session, or null when it has none. */
  digest(sessionId: string): string | null {
    return this.setStmt.get(sessionId)?.digest ?? null;
  }

  /** How many keys the session's set in use holds (0 also without a set). */
  count(sessionId: string): number {
    return this.countStmt.get(sessionId)!.n;
  }

  /** Keeps one part of a set until the others arrive; the same part again replaces it. */
  stagePart(sessionId: string, digest: string, part: number, parts: number, keys: readonly StoredCheckinKey[]): void {
    this.stageStmt.run(sessionId, digest, part, parts, JSON.stringify(keys));
  }

  /** The parts of that set received so far, in order. */
  stagedParts(sessionId: string, digest: string, parts: number): Array<{ part: number; keys: StoredCheckinKey[] }> {
    return this.stagedStmt.all(sessionId, digest, parts).map((r) => ({ part: r.part, keys: JSON.parse(r.keys) as StoredCheckinKey[] }));
  }

  /** Makes `keys` the session's set, replacing the one in use, and forgets every staged part. Call inside a transaction. */
  replaceSet(sessionId: string, digest: string, keys: readonly StoredCheckinKey[], at: number): void {
    this.drop(sessionId);
    this.insertSetStmt.run(sessionId, digest, at);
    for (const k of keys) this.insertKeyStmt.run(sessionId, k.keyId, k.spki);
  }

  /** Forgets the session's set and staged parts (the session ended). Call inside a transaction. */
  drop(sessionId: string): void {
    this.dropKeysStmt.run(sessionId);
    this.dropSetStmt.run(sessionId);
    this.dropPartsStmt.run(sessionId);
  }
}
