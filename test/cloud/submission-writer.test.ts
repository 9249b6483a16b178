/** Group commit of submissions: one answer per caller, replays counted once, a bad item fails alone. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { setupCourse, type CourseFixture } from '../helpers/fixtures.js';
import { createSubmissionWriter } from '../../cloud/store/submission-writer.js';

let h: CloudHarness;
let f: CourseFixture;
let sessionId: string;

beforeAll(async () => {
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 3 });
  const r = await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: 60 });
  sessionId = r.body.session_id;
});
afterAll(() => h.close());

const input = (studentId: string, w: number) => ({ sessionId, studentId, w, receivedAt: h.clock(), rssi: -70, via: 'app' });

describe('submission writer', () => {
  it('answers each of a burst of concurrent submissions with its own result', async () => {
    const writer = createSubmissionWriter(h.store.db);
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
    const rows = await h.store.db.selectFrom('submissions').select(['student_id', 'w']).where('session_id', '=', sessionId).execute();
    expect(rows).toHaveLength(4);
  });

  it('fails only the item that cannot be written; the rest of the batch is committed', async () => {
    const writer = createSubmissionWriter(h.store.db);
    const [good, bad, good2] = await Promise.allSettled([
      writer.record(input(f.students[0]!.id, 200)),
      writer.record({ ...input(f.students[1]!.id, 200), sessionId: '0192f3a0-7c00-7000-8000-00000000dead' }),
      writer.record(input(f.students[2]!.id, 200)),
    ]);
    expect(good).toMatchObject({ status: 'fulfilled', value: { added: true } });
    expect(bad.status).toBe('rejected');
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY|foreign key/);
    expect(good2).toMatchObject({ status: 'fulfilled', value: { added: true } });
    const rows = await h.store.db.selectFrom('submissions').select('student_id').where('w', '=', 200).execute();
    expect(rows).toHaveLength(2);
  });

  it('waits for a transaction that is open on the connection instead of writing into it', async () => {
    const writer = createSubmissionWriter(h.store.db);
    let pending!: Promise<unknown>;
    await expect(
      h.store.db.transaction().execute(async (trx) => {
        await trx.insertInto('audit_log').values({ at: 1, actor_id: null, action: 'test', target: 'x', details: '{}' }).execute();
        pending = writer.record(input(f.students[0]!.id, 300));
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await expect(pending).resolves.toMatchObject({ added: true });
    const row = await h.store.db.selectFrom('submissions').select('w').where('w', '=', 300).executeTakeFirst();
    expect(row).toBeDefined();
  });
});
