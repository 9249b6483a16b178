/**
 * What was on air and when: one row per (session, window) advertised, closed when replaced. The
 * gateway's own record; the cloud learns the same from `token.rotated` events.
 */
import type { Db } from './open.js';

export interface AdvertisedWindow {
  sessionId: string;
  w: number;
  token: string;
  advertisedFrom: number;
  advertisedTo: number | null;
}

interface Row {
  session_id: string;
  w: number;
  token: string;
  advertised_from: number;
  advertised_to: number | null;
}

export class AdvertisedWindowRepo {
  private readonly closeStmt;
  private readonly insertStmt;
  private readonly currentStmt;
  private readonly forSessionStmt;
  private readonly tokenStmt;

  constructor(db: Db) {
    this.closeStmt = db.prepare<[number]>('UPDATE advertised_windows SET advertised_to = ? WHERE advertised_to IS NULL');
    this.insertStmt = db.prepare<[string, number, string, number]>(
      'INSERT INTO advertised_windows (session_id, w, token, advertised_from) VALUES (?, ?, ?, ?)',
    );
    this.currentStmt = db.prepare<[], Row>('SELECT * FROM advertised_windows WHERE advertised_to IS NULL ORDER BY id DESC LIMIT 1');
    this.forSessionStmt = db.prepare<[string], Row>('SELECT * FROM advertised_windows WHERE session_id = ? ORDER BY id');
    this.tokenStmt = db.prepare<[string, number], { token: string }>('SELECT token FROM advertised_windows WHERE session_id = ? AND w = ? LIMIT 1');
  }

  /** Ends whatever row is still open (the previous window, or a session that just ended). */
  closeOpen(at: number): void {
    this.closeStmt.run(at);
  }

  open(sessionId: string, w: number, tokenHex: string, at: number): void {
    this.insertStmt.run(sessionId, w, tokenHex, at);
  }

  current(): AdvertisedWindow | null {
    const r = this.currentStmt.get();
    return r ? toEntry(r) : null;
  }

  /** The token (hex) advertised for that window of that session, or null when it was never on air. */
  token(sessionId: string, w: number): string | null {
    return this.tokenStmt.get(sessionId, w)?.token ?? null;
  }

  forSession(sessionId: string): AdvertisedWindow[] {
    return this.forSessionStmt.all(sessionId).map(toEntry);
  }
}

function toEntry(r: Row): AdvertisedWindow {
  return { sessionId: r.session_id, w: r.w, token: r.token, advertisedFrom: r.advertised_from, advertisedTo: r.advertised_to };
}
