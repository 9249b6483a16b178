/**
 * Group commit for token submissions. A class submits in bursts (every phone at each window
 * change); on SQLite each commit costs far more than the insert itself, so the submissions that
 * arrive in the same turn of the event loop are written in one transaction (bench/README.md,
 * "Submit"). Each caller still learns whether its own window was new and how many it has.
 * PostgreSQL, or SQLite while another transaction is open, takes the one-by-one path.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { sqliteSyncHandle } from './db.js';
import { countWindows, insertSubmission, recordSubmission, windowsSeen } from './submissions.js';

export interface SubmissionInput {
  sessionId: string;
  studentId: string;
  w: number;
  receivedAt: number;
  rssi: number | null;
  via: string;
}

export interface SubmissionWrite {
  added: boolean;
  windowsSeen: number;
}

interface Pending {
  input: SubmissionInput;
  resolve: (r: SubmissionWrite) => void;
  reject: (e: unknown) => void;
}

/** Upper bound of one batch: keeps a commit short whatever the burst. */
const MAX_BATCH = 256;

export function createSubmissionWriter(db: Kysely<Database>): { record(input: SubmissionInput): Promise<SubmissionWrite> } {
  const sync = sqliteSyncHandle(db);
  const queue: Pending[] = [];

  async function one(input: SubmissionInput): Promise<SubmissionWrite> {
    const added = await recordSubmission(db, input);
    return { added, windowsSeen: await windowsSeen(db, input.sessionId, input.studentId) };
  }

  function writeSync(p: Pending): SubmissionWrite {
    const values = { session_id: p.input.sessionId, student_id: p.input.studentId, w: p.input.w, received_at: p.input.receivedAt, rssi: p.input.rssi, via: p.input.via };
    const res = insertSubmission.runSync(db, sync!, values);
    const count = countWindows.runSync(db, sync!, values);
    return { added: Number(res.numAffectedRows ?? 0) === 1, windowsSeen: Number((count.rows[0] as { n: number } | undefined)?.n ?? 0) };
  }

  function flush(): void {
    const batch = queue.splice(0, MAX_BATCH);
    if (queue.length) setImmediate(flush);
    if (sync!.inTransaction()) {
      // Someone else's transaction is open on the connection: wait for it like any query.
      for (const p of batch) one(p.input).then(p.resolve, p.reject);
      return;
    }
    let results: SubmissionWrite[];
    try {
      results = sync!.transaction(() => batch.map(writeSync));
    } catch {
      // The batch rolled back as a whole; redo it one by one so only a failing item fails.
      for (const p of batch) {
        try {
          p.resolve(sync!.transaction(() => writeSync(p)));
        } catch (e) {
          p.reject(e);
        }
      }
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
  }

  return {
    record(input) {
      if (!sync) return one(input);
      return new Promise<SubmissionWrite>((resolve, reject) => {
        queue.push({ input, resolve, reject });
        if (queue.length === 1) setImmediate(flush);
      });
    },
  };
}
