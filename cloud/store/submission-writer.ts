/**
 * Group commit for token submissions. A class submits in bursts (every phone at each window
 * change); on SQLite each commit costs far more than the insert itself, so the submissions that
 * arrive in the same turn of the event loop are written in one transaction (bench/README.md,
 * "Submit"). Each caller still learns whether its own window was new and how many it has.
 * SQLite writes a batch synchronously in one native transaction (while another transaction is
 * open on the connection, it waits for it one by one). PostgreSQL writes a batch as one statement
 * that inserts the rows and counts the students' windows: `ON CONFLICT DO NOTHING RETURNING` tells
 * which rows went in, so the unique key decides duplicates there too, and a few batches are in
 * flight at once while the next one gathers. On both, each answer counts the student's windows up to and including its
 * own row in the batch's order, and a batch that fails is redone one by one so only a failing item
 * fails. `record` resolves only once the caller's row has committed, so what the caller does next
 * (the `submission.accepted` event) happens after the commit.
 */
import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { preparedQuery } from './prepared.js';
import { sqliteSyncHandle, type SqliteSyncHandle } from './sqlite-sync.js';

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
  /** Whether the room's gateway has witnessed the student in this window (witnessed_windows), read in the same statement or transaction. */
  witnessed: boolean;
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
/** PostgreSQL: batches committing at once (each on its own pooled connection) while the next gathers. */
const PG_IN_FLIGHT = 4;

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

const isWitnessed = preparedQuery(['session_id', 'student_id', 'w'] as const, (db, p) =>
  (db as unknown as Kysely<Database>)
    .selectFrom('witnessed_windows')
    .select('w')
    .where('session_id', '=', p.session_id)
    .where('student_id', '=', p.student_id)
    .where('w', '=', p.w as unknown as number),
);

const valuesOf = (s: SubmissionInput) => ({ session_id: s.sessionId, student_id: s.studentId, w: s.w, received_at: s.receivedAt, rssi: s.rssi, via: s.via });
const countOf = (rows: unknown[]) => Number((rows[0] as { n: number | string } | undefined)?.n ?? 0);

const keyOf = (s: { session_id: string; student_id: string; w: number }) => `${s.session_id}\n${s.student_id}\n${s.w}`;
const pairOf = (s: SubmissionInput) => `${s.sessionId}\n${s.studentId}`;

export function createSubmissionWriter(db: Kysely<Database>): SubmissionWriter {
  const sync = sqliteSyncHandle(db);
  if (sync) return sqliteWriter(db, sync);
  if (db.isTransaction) return { record: (input) => one(db, input) };
  return postgresWriter(db);
}

async function one(db: Kysely<Database>, input: SubmissionInput): Promise<SubmissionWrite> {
  const values = valuesOf(input);
  const res = await insertSubmission(db, values);
  return { added: Number(res.numAffectedRows ?? 0) === 1, windowsSeen: countOf((await countWindows(db, values)).rows), witnessed: (await isWitnessed(db, values)).rows.length > 0 };
}

function sqliteWriter(db: Kysely<Database>, sync: SqliteSyncHandle): SubmissionWriter {
  const queue: Pending[] = [];

  function writeSync(p: Pending): SubmissionWrite {
    const values = valuesOf(p.input);
    const res = insertSubmission.runSync(db, sync, values);
    const count = countWindows.runSync(db, sync, values);
    return { added: Number(res.numAffectedRows ?? 0) === 1, windowsSeen: countOf(count.rows), witnessed: isWitnessed.runSync(db, sync, values).rows.length > 0 };
  }

  function flush(): void {
    const batch = queue.splice(0, MAX_BATCH);
    if (queue.length) setImmediate(flush);
    if (sync.inTransaction()) {
      // Someone else's transaction is open on the connection: wait for it like any query.
      for (const p of batch) one(db, p.input).then(p.resolve, p.reject);
      return;
    }
    let results: SubmissionWrite[];
    try {
      results = sync.transaction(() => batch.map(writeSync));
    } catch {
      // The batch rolled back as a whole; redo it one by one so only a failing item fails.
      for (const p of batch) {
        try {
          p.resolve(sync.transaction(() => writeSync(p)));
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
      return new Promise<SubmissionWrite>((resolve, reject) => {
        queue.push({ input, resolve, reject });
        if (queue.length === 1) setImmediate(flush);
      });
    },
  };
}

/**
 * One batch on PostgreSQL in one statement (one round trip, its own transaction): the batch goes
 * in as six arrays, so the text never changes with the batch's size; `ON CONFLICT DO NOTHING
 * RETURNING` names the rows that went in, and the students' counts read the snapshot the statement
 * started from, which does not hold them, so a pair's total is its count plus its new rows; the
 * same statement reads which of the batch's windows the room's gateway has witnessed.
 */
const BATCH_SQL = `WITH batch AS (
  SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::bigint[], $4::bigint[], $5::integer[], $6::varchar[])
    AS b(session_id, student_id, w, received_at, rssi, via)
), ins AS (
  INSERT INTO submissions (session_id, student_id, w, received_at, rssi, via)
  SELECT session_id, student_id, w, received_at, rssi, via FROM batch
  ON CONFLICT (session_id, student_id, w) DO NOTHING
  RETURNING session_id, student_id, w
)
SELECT 'inserted' AS kind, session_id, student_id, w, NULL::bigint AS n FROM ins
UNION ALL
SELECT 'count', s.session_id, s.student_id, NULL, count(*) FROM submissions s
WHERE (s.session_id, s.student_id) IN (SELECT session_id, student_id FROM batch)
GROUP BY s.session_id, s.student_id
UNION ALL
SELECT 'witnessed', x.session_id, x.student_id, x.w, NULL FROM witnessed_windows x
WHERE (x.session_id, x.student_id, x.w) IN (SELECT session_id, student_id, w FROM batch)`;

interface BatchRow {
  kind: 'inserted' | 'count' | 'witnessed';
  session_id: string;
  student_id: string;
  /** The window of an inserted or witnessed row; null on a pair's count. */
  w: number | string | null;
  n: number | string | null;
}

async function writeBatch(db: Kysely<Database>, batch: SubmissionInput[]): Promise<SubmissionWrite[]> {
  const columns = [batch.map((s) => s.sessionId), batch.map((s) => s.studentId), batch.map((s) => s.w), batch.map((s) => s.receivedAt), batch.map((s) => s.rssi), batch.map((s) => s.via)];
  const { rows } = await db.executeQuery<BatchRow>(CompiledQuery.raw(BATCH_SQL, columns));
  const fresh = new Set<string>();
  const witnessed = new Set<string>();
  const total = new Map<string, number>();
  for (const r of rows) {
    const pair = `${r.session_id}\n${r.student_id}`;
    if (r.kind === 'count') total.set(pair, (total.get(pair) ?? 0) + Number(r.n));
    else if (r.kind === 'witnessed') witnessed.add(keyOf({ session_id: r.session_id, student_id: r.student_id, w: Number(r.w) }));
    else {
      fresh.add(keyOf({ session_id: r.session_id, student_id: r.student_id, w: Number(r.w) }));
      total.set(pair, (total.get(pair) ?? 0) + 1);
    }
  }
  // Of identical submissions in one batch, the first is the one that went in.
  const added = batch.map((s) => fresh.delete(keyOf(valuesOf(s))));
  // What the row-by-row path answers: the count minus the rows this batch added after the item.
  const addedLater = new Map<string, number>();
  const results: SubmissionWrite[] = new Array(batch.length);
  for (let i = batch.length - 1; i >= 0; i--) {
    const pair = pairOf(batch[i]!);
    const later = addedLater.get(pair) ?? 0;
    results[i] = { added: added[i]!, windowsSeen: (total.get(pair) ?? 0) - later, witnessed: witnessed.has(keyOf(valuesOf(batch[i]!))) };
    if (added[i]) addedLater.set(pair, later + 1);
  }
  return results;
}

function postgresWriter(db: Kysely<Database>): SubmissionWriter {
  const queue: Pending[] = [];
  let inFlight = 0;

  async function commit(batch: Pending[]): Promise<void> {
    let results: SubmissionWrite[];
    try {
      results = await writeBatch(db, batch.map((p) => p.input));
    } catch {
      // Nothing of the batch went in; redo it one by one so only a failing item fails.
      await Promise.all(batch.map((p) => one(db, p.input).then(p.resolve, p.reject)));
      return;
    }
    // Resolved only now: the batch's transaction has committed.
    batch.forEach((p, i) => p.resolve(results[i]!));
  }

  function pump(): void {
    while (inFlight < PG_IN_FLIGHT && queue.length) {
      inFlight++;
      void commit(queue.splice(0, MAX_BATCH)).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    record(input) {
      return new Promise<SubmissionWrite>((resolve, reject) => {
        queue.push({ input, resolve, reject });
        if (queue.length === 1) setImmediate(pump);
      });
    },
  };
}
