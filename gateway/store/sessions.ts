/** The sessions table: what this room's beacon is (or was) advertising for. */
import type { Db } from './open.js';

export type SessionSource = 'cloud' | 'timetable' | 'gateway';
export type EndReason = 'command' | 'timetable' | 'scheduled_end' | 'replaced' | 'operator';

export interface SessionRecord {
  id: string;
  courseId: string | null;
  periodS: number;
  startedAt: number;
  endsAt: number | null;
  endedAt: number | null;
  endReason: EndReason | null;
  source: SessionSource;
}

interface Row {
  id: string;
  course_id: string | null;
  period_s: number;
  started_at: number;
  ends_at: number | null;
  ended_at: number | null;
  end_reason: EndReason | null;
  source: SessionSource;
}

function toRecord(r: Row): SessionRecord {
  return {
    id: r.id,
    courseId: r.course_id,
    periodS: r.period_s,
    startedAt: r.started_at,
    endsAt: r.ends_at,
    endedAt: r.ended_at,
    endReason: r.end_reason,
    source: r.source,
  };
}

export class SessionRepo {
  private readonly insertStmt;
  private readonly endStmt;
  private readonly liveStmt;
  private readonly getStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare<[string, string | null, number, number, number | null, string]>(
      'INSERT INTO sessions (id, course_id, period_s, started_at, ends_at, source) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.endStmt = db.prepare<[number, string, string]>('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL');
    this.liveStmt = db.prepare<[], Row>('SELECT * FROM sessions WHERE ended_at IS NULL');
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM sessions WHERE id = ?');
  }

  insert(s: Omit<SessionRecord, 'endedAt' | 'endReason'>): void {
    this.insertStmt.run(s.id, s.courseId, s.periodS, s.startedAt, s.endsAt, s.source);
  }

  /** Returns false when the session was not live (already ended or unknown). */
  end(id: string, endedAt: number, reason: EndReason): boolean {
    return this.endStmt.run(endedAt, reason, id).changes === 1;
  }

  live(): SessionRecord | null {
    const row = this.liveStmt.get();
    return row ? toRecord(row) : null;
  }

  get(id: string): SessionRecord | null {
    const row = this.getStmt.get(id);
    return row ? toRecord(row) : null;
  }
}
