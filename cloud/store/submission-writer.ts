/**
 * Group commit for token submissions. A class submits in bursts (every phone at each window
 * change); on SQLite each commit costs far more than the insert itself, so the submissions that
 * arrive in the same turn of the event loop are written in one transaction (bench/README.md,
 * "Submit"). Each caller still learns whether its own window was new and how many it has.
 * PostgreSQL, or SQLite while another transaction is open, takes the one-by-one path.
 * `record` resolves only once the caller's row has committed, so what the caller does next (the
 * `submission.accepted` event) happens after the commit.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { preparedQuery } from './prepared.js';
import { sqliteSyncHandle } from './sqlite-sync.js';

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

export interface SubmissionWriter {
  record(input: SubmissionInput): Promise<SubmissionWrite>;
}

interface Pending {
  input: SubmissionInput;
  resolve: (r: SubmissionWrite) => void;
  reject: (e: unknown) => void;
}

/** Upper bound of one batch: keeps a commit short whatever the burst. */
const MAX_BATCH = 256;

const insertSubmission = preparedQuery(['session_id', 'student_id', 'w', 'received_at', 'rssi', 'via'] as const, (db, p) =>
  (db as unknown as Kysely<Database>)
    .insertInto('submissions')
    .values({ session_id: p.session_id, student_id: p.student_id, w: p.w as unknown as number, received_at: p.received_at as unknown as number, rssi: p.rssi as unknown as number, via: p.via })
    .onConflict((oc) => oc.columns(['session_id', 'student_id', 'w']).doNothing()),
);

const countWindows = preparedQuery(['session_id', 'student_id'] as const, (db, p) =>
  (db as unknown as Kysely<Database>)
    .selectFrom('submissions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('session_id', '=', p.session_id)
    .where('student_id', '=', p.student_id),
);

const valuesOf = (s: SubmissionInput) => ({ session_id: s.sessionId, student_id: s.studentId, w: s.w, received_at: s.receivedAt, rssi: s.rssi, via: s.via });
const countOf = (rows: unknown[]) => Number((rows[0] as { n: number | string } | undefined)?.n ?? 0);

export function createSubmissionWriter(db: Kysely<Database>): SubmissionWriter {
  const sync = sqliteSyncHandle(db);
  const queue: Pending[] = [];

  async function one(input: SubmissionInput): Promise<SubmissionWrite> {
    const values = valuesOf(input);
    const res = await insertSubmission(db, values);
    return { added: Number(res.numAffectedRows ?? 0) === 1, windowsSeen: countOf((await countWindows(db, values)).rows) };
  }

  function writeSync(p: Pending): SubmissionWrite {
    const values = valuesOf(p.input);
    const res = insertSubmission.runSync(db, sync!, values);
    const count = countWindows.runSync(db, sync!, values);
    return { added: Number(res.numAffectedRows ?? 0) === 1, windowsSeen: countOf(count.rows) };
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
    // Resolved only now: the batch's transaction has committed.
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
