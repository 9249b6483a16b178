/**
 * Accepted token submissions. The primary key (session, student, w) makes a replay a no-op, so
 * the same window can never count twice however often it is sent.
 */
import type { Queryable } from './repositories.js';
import { createSubmissionWriter, type SubmissionWriter } from './submission-writer.js';

export class SubmissionRepository {
  constructor(private readonly db: Queryable) {}

  /** Deletes the raw submissions of sessions that ended before `endedBefore`; returns how many. */
  async purgeEndedBefore(endedBefore: number): Promise<number> {
    const oldSessions = this.db.selectFrom('sessions').select('id').where('state', '=', 'ended').where('ended_at', '<', endedBefore);
    const res = await this.db.deleteFrom('submissions').where('session_id', 'in', oldSessions).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** A writer that group-commits the submissions that arrive together (SQLite and PostgreSQL). */
  writer(): SubmissionWriter {
    return createSubmissionWriter(this.db);
  }
}
