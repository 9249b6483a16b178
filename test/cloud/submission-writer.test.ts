/**
 * Group commit of submissions: one answer per caller, replays counted once, a bad item fails
 * alone, nothing lands in someone else's transaction, and `submission.accepted` follows the commit.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { frameAt, setupCourse, type CourseFixture } from '../helpers/fixtures.js';
import { sqliteSyncHandle } from '../../cloud/store/sqlite-sync.js';

let h: CloudHarness;
let f: CourseFixture;
let sessionId: string;
const periodS = 60;

beforeAll(async () => {
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 3 });
  const r = await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: periodS });
  sessionId = r.body.session_id;
});
afterAll(() => h.close());

const input = (studentId: string, w: number) => ({ sessionId, studentId, w, receivedAt: h.clock(), rssi: -70, via: 'app' });
const stored = async (where: { w?: number } = {}) => {
  let q = h.store.db.selectFrom('submissions').select(['student_id', 'w']).where('session_id', '=', sessionId);
  if (where.w !== undefined) q = q.where('w', '=', where.w);
  const rows = await q.execute();
  return rows.map((r) => `${r.student_id}/${r.w}`).sort();
};

describe('submission writer', () => {
  it('answers each of a burst of concurrent submissions with its own result', async () => {
    const writer = h.store.submissions.writer();
    const [a, b, c] = f.students.map((s) => s.id) as [string, string, string];
    const results = await Promise.all([
      writer.record(input(a, 100)), writer.record(input(a, 101)), writer.record(input(a, 100)),
      writer.record(input(b, 100)), writer.record(input(c, 102)), writer.record(input(b, 100)),
    ]);
    // Exactly one of the two identical submissions of a window is new, whichever commits first.
    expect(results.filter((r) => r.added)).toHaveLength(4);
    expect(results[0]!.added !== results[2]!.added).toBe(true);
    expect(results[3]!.added !== results[5]!.added).toBe(true);
    // Each answer counts the student's windows including its own, never more than exist.
    const finalCount = { 0: 2, 1: 2, 2: 2, 3: 1, 4: 1, 5: 1 } as Record<number, number>;
    results.forEach((r, i) => {
      expect(r.windowsSeen).toBeGreaterThanOrEqual(1);
      expect(r.windowsSeen).toBeLessThanOrEqual(finalCount[i]!);
    });
    expect(await stored()).toEqual([`${a}/100`, `${a}/101`, `${b}/100`, `${c}/102`].sort());
    // The later answers of a burst see the earlier rows of the same batch.
    expect(results[1]!.windowsSeen).toBe(2);
    expect(results[4]).toEqual({ added: true, windowsSeen: 1, witnessed: false });
  });

  it('fails only the item that cannot be written; the rest of the batch is committed', async () => {
    const writer = h.store.submissions.writer();
    const [good, bad, good2] = await Promise.allSettled([
      writer.record(input(f.students[0]!.id, 200)),
      writer.record({ ...input(f.students[1]!.id, 200), sessionId: '0192f3a0-7c00-7000-8000-00000000dead' }),
      writer.record(input(f.students[2]!.id, 200)),
    ]);
    expect(good).toMatchObject({ status: 'fulfilled', value: { added: true } });
    expect(bad.status).toBe('rejected');
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY|foreign key/);
    expect(good2).toMatchObject({ status: 'fulfilled', value: { added: true } });
    expect(good).toMatchObject({ value: { windowsSeen: 3 } }); // windows 100, 101 and 200
    expect(await stored({ w: 200 })).toEqual([`${f.students[0]!.id}/200`, `${f.students[2]!.id}/200`].sort());
  });

  it('waits for a transaction that is open on the connection instead of writing into it', async () => {
    const writer = h.store.submissions.writer();
    let pending!: Promise<unknown>;
    await expect(
      h.store.db.transaction().execute(async (trx) => {
        await trx.insertInto('audit_log').values({ at: 1, actor_id: null, action: 'test', target: 'x', details: '{}' }).execute();
        pending = writer.record(input(f.students[0]!.id, 300));
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    // Written after the rollback, on its own: the row is there, the rolled-back audit row is not.
    await expect(pending).resolves.toEqual({ added: true, windowsSeen: 4, witnessed: false }); // 100, 101, 200, 300
    const row = await h.store.db.selectFrom('submissions').selectAll().where('session_id', '=', sessionId).where('w', '=', 300).executeTakeFirst();
    expect(row).toMatchObject({ student_id: f.students[0]!.id, rssi: -70, via: 'app' });
    expect(await h.store.db.selectFrom('audit_log').select('id').where('action', '=', 'test').execute()).toEqual([]);
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)('on PostgreSQL, a burst is one multi-row insert in one transaction, not a commit per submission', async () => {
    const writer = h.store.submissions.writer();
    const [a, b, c] = f.students.map((s) => s.id) as [string, string, string];
    const results = await Promise.all([writer.record(input(a, 400)), writer.record(input(b, 400)), writer.record(input(c, 400)), writer.record(input(a, 400)), writer.record(input(a, 401))]);
    expect(results.map((r) => r.added)).toEqual([true, true, true, false, true]);
    // Counted as the row-by-row path counts: up to and including the item's own row, in order.
    expect(results.map((r) => r.windowsSeen)).toEqual([5, 2, 3, 5, 6]); // before: a had 100, 101, 200, 300; b 100; c 102, 200
    // Rows written by one transaction carry its id (xmin).
    const tx = await sql<{ xid: string }>`select distinct xmin::text as xid from submissions where session_id = ${sessionId} and w in (400, 401)`.execute(h.store.db);
    expect(tx.rows).toHaveLength(1);
  });

  it("says, in the same write, whether the room's gateway witnessed the student in that window", async () => {
    const writer = h.store.submissions.writer();
    const [a, b] = f.students.map((s) => s.id) as [string, string];
    await h.store.db.insertInto('witnessed_windows').values({
      session_id: sessionId, student_id: a, w: 500, key_id: '00'.repeat(16), gateway_id: 'gw', event_id: '0192f3a0-7c00-7000-8000-000000000500', rssi: -60, peer: 'aa:bb:cc:dd:ee:ff', latency_ms: 80, at: h.clock(), received_at: h.clock(),
    }).execute();
    const results = await Promise.all([writer.record(input(a, 500)), writer.record(input(b, 500)), writer.record(input(a, 501)), writer.record(input(a, 500))]);
    expect(results.map((r) => r.witnessed)).toEqual([true, false, false, true]);
    expect(results.map((r) => r.added)).toEqual([true, true, true, false]);
  });

  it.skipIf(!!process.env.TEST_DATABASE_URL)('emits submission.accepted only once the row has committed (SQLite)', async () => {
    const sync = sqliteSyncHandle(h.store.db)!;
    const student = f.students[1]!;
    const seen: Array<{ w: number; inTransaction: boolean; rows: number }> = [];
    const owner = {};
    h.deps.events.on('submission.accepted', owner, (e) => {
      // Read synchronously, at the moment of the event, on the store's own connection.
      const rows = sync.prepare('select count(*) as n from submissions where session_id = ? and student_id = ? and w = ?').get(e.session_id, e.student_id, e.w) as { n: number };
      seen.push({ w: e.w, inTransaction: sync.inTransaction(), rows: rows.n });
    });
    try {
      const frame = frameAt(f, sessionId, periodS, h.clock());
      const r = await h.http().post('/api/v1/student/token/submit').set(student.auth).send({ frame });
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('accepted');
      const again = await h.http().post('/api/v1/student/token/submit').set(student.auth).send({ frame });
      expect(again.body.status).toBe('duplicate');
      expect(seen).toHaveLength(1); // a duplicate is not an event
      expect(seen[0]).toMatchObject({ inTransaction: false, rows: 1 });
    } finally {
      h.deps.events.off(owner);
    }
  });
});
