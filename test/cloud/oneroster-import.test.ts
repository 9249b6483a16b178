/** OneRoster 1.2 CSV import: POST /api/v1/admin/imports/oneroster and `attendance-cloud import-oneroster`. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { createCloudHarness, testDatabase, type CloudHarness } from '../helpers/cloud.js';
import { deltaBundle, generateBundle, studentSid, teacherSid, writeBundleFolder, zipBundle, type Bundle } from '../helpers/oneroster-bundle.js';

const SIZE = { students: 6, teachers: 2, classes: 3, classesPerStudent: 2 };
const PATH = '/api/v1/admin/imports/oneroster';

let h: CloudHarness;
let admin: Awaited<ReturnType<CloudHarness['user']>>;
beforeEach(async () => {
  h = await createCloudHarness();
  admin = await h.user('admin');
});
afterEach(() => h.close());

const without = (b: Bundle, file: string): Bundle => Object.fromEntries(Object.entries(b).filter(([name]) => name !== file));

function upload(zip: Buffer, query = '') {
  return h.http().post(PATH + query).set(admin.auth).set('Content-Type', 'application/zip').send(zip);
}

async function counts() {
  const db = h.store.db;
  const n = async (t: 'users' | 'terms' | 'courses' | 'enrollments') => Number((await db.selectFrom(t).select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return { users: await n('users'), terms: await n('terms'), courses: await n('courses'), enrollments: await n('enrollments') };
}

describe('OneRoster import', () => {
  it('a bulk bundle creates the terms, accounts, courses with their primary teacher, and enrolments', async () => {
    const res = await upload(zipBundle(generateBundle(SIZE)));
    expect(res.status).toBe(200);
    expect(res.body.by_kind).toEqual({
      terms: { created: 2, updated: 0, unchanged: 0, deleted: 0 },
      accounts: { created: 8, updated: 0, unchanged: 0, deleted: 0 },
      courses: { created: 3, updated: 0, unchanged: 0, deleted: 0 },
      enrollments: { created: 12, updated: 0, unchanged: 0, deleted: 0 },
    });
    expect(res.body.rejected).toEqual([]);
    const student = await h.store.db.selectFrom('users').selectAll().where('sourced_id', '=', studentSid(0)).executeTakeFirstOrThrow();
    expect(student).toMatchObject({ email: 'student0@uni.example', full_name: "Student O'Number, 0", role: 'student', deactivated_at: null });
    expect(student.email_verified_at).not.toBeNull();
    const teacher = await h.store.db.selectFrom('users').selectAll().where('sourced_id', '=', teacherSid(1)).executeTakeFirstOrThrow();
    const course = await h.store.db.selectFrom('courses').selectAll().where('sourced_id', '=', 'cls-1').executeTakeFirstOrThrow();
    expect(course).toMatchObject({ code: 'C1-A', name: 'Course 1, section A', teacher_id: teacher.id });
    expect((await h.store.courses.getTerm(course.term_id!))?.name).toBe('Spring 2027');
    // Imported accounts have no password anyone knows: they sign in through the identity provider.
    const login = await h.http().post('/api/v1/auth/login').send({ email: 'student0@uni.example', password: '' });
    expect(login.status).not.toBe(200);
    const audit = await h.store.db.selectFrom('audit_log').selectAll().where('action', '=', 'roster.import').execute();
    expect(audit).toHaveLength(1);
  });

  it('re-importing the same bundle changes nothing', async () => {
    const zip = zipBundle(generateBundle(SIZE));
    await upload(zip).expect(200);
    const before = await counts();
    const again = await upload(zip).expect(200);
    expect([again.body.created, again.body.updated, again.body.deleted]).toEqual([0, 0, 0]);
    expect(again.body.unchanged).toBe(2 + 8 + 3 + 12);
    expect(await counts()).toEqual(before);
  });

  it('a delta with tobedeleted deactivates the account (its tokens die) and removes the enrolment', async () => {
    await upload(zipBundle(generateBundle(SIZE))).expect(200);
    const s1 = await h.store.db.selectFrom('users').selectAll().where('sourced_id', '=', studentSid(1)).executeTakeFirstOrThrow();
    const stamp = '2026-09-10T00:00:00.000Z';
    const delta = deltaBundle(
      [[studentSid(1), 'tobedeleted', stamp, '', '', '', '', '', '', '', '', '', '', '', '', '', '', '']],
      [['enr-0-0', 'tobedeleted', stamp, 'cls-0', 'sch-1', studentSid(0), 'student', 'false', '', '']],
    );
    const res = await upload(zipBundle(delta)).expect(200);
    expect(res.body.by_kind.accounts.deleted).toBe(1);
    expect(res.body.by_kind.enrollments.deleted).toBe(1);
    const after = await h.store.db.selectFrom('users').selectAll().where('id', '=', s1.id).executeTakeFirstOrThrow();
    expect(after.deactivated_at).not.toBeNull();
    expect(after.token_version).toBe(s1.token_version + 1);
    const course = await h.store.db.selectFrom('courses').select('id').where('sourced_id', '=', 'cls-0').executeTakeFirstOrThrow();
    const s0 = await h.store.db.selectFrom('users').select('id').where('sourced_id', '=', studentSid(0)).executeTakeFirstOrThrow();
    expect(await h.store.courses.isEnrolled(course.id, s0.id)).toBe(false);
  });

  it('a dry run answers what would change and writes nothing', async () => {
    const before = await counts();
    const res = await upload(zipBundle(generateBundle(SIZE)), '?dry_run=true').expect(200);
    expect(res.body).toMatchObject({ dry_run: true, created: 25 });
    expect(await counts()).toEqual(before);
  });

  it.each<[string, (b: Bundle) => Buffer, string]>([
    ['not a zip', () => Buffer.from('sourcedId,status\n'), 'not_a_zip'],
    ['no manifest', (b) => zipBundle(without(b, 'manifest.csv')), 'missing_file'],
    ['a file the manifest lists is missing', (b) => zipBundle(without(b, 'classes.csv')), 'missing_file'],
    ['a required header is missing', (b) => zipBundle({ ...b, 'users.csv': b['users.csv']!.replace('givenName', 'firstName') }), 'missing_header'],
    ['a file the manifest calls absent', (b) => zipBundle({ ...b, 'manifest.csv': b['manifest.csv']!.replace('file.classes,bulk', 'file.classes,absent') }), 'manifest_mismatch'],
    ['an entry outside the bundle', (b) => Buffer.from(zipSync({ 'manifest.csv': strToU8(b['manifest.csv']!), '../users.csv': strToU8('x') })), 'unsafe_path'],
  ])('a malformed bundle (%s) is refused whole with the reason and nothing written', async (_name, make, code) => {
    const before = await counts();
    const res = await upload(make(generateBundle(SIZE)));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toBeTruthy();
    expect(await counts()).toEqual(before);
  });

  it('rejected rows are reported with file, line, sourcedId and reason, and the others are imported', async () => {
    const b = generateBundle(SIZE);
    b['users.csv'] = b['users.csv']!.replace('student2@uni.example', 'not-an-address').replace(`${studentSid(3)},active`, `${studentSid(3)},archived`);
    const res = await upload(zipBundle(b)).expect(200);
    expect(res.body.rejected).toEqual(expect.arrayContaining([
      { file: 'users.csv', line: 6, sourcedId: studentSid(2), reason: 'email is not an e-mail address' },
      { file: 'users.csv', line: 7, sourcedId: studentSid(3), reason: 'status "archived" is neither active nor tobedeleted' },
      expect.objectContaining({ file: 'enrollments.csv', sourcedId: 'enr-2-0', reason: `the user ${studentSid(2)} is not an imported student account` }),
    ]));
    expect(res.body.by_kind.accounts.created).toBe(6);
  });

  it('teachers and students may not import (403)', async () => {
    const zip = zipBundle(generateBundle(SIZE));
    for (const role of ['teacher', 'student'] as const) {
      const u = await h.user(role);
      const res = await h.http().post(PATH).set(u.auth).set('Content-Type', 'application/zip').send(zip);
      expect(res.status).toBe(403);
    }
    expect((await counts()).courses).toBe(0);
  });
});

describe('attendance-cloud import-oneroster', () => {
  it('imports a folder with a progress line per file, and --dry-run writes nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-oneroster-'));
    // The command's own database (a SQLite file, or a PostgreSQL schema of its own under TEST_DATABASE_URL).
    const database = await testDatabase(dir);
    try {
      writeBundleFolder(path.join(dir, 'bundle'), generateBundle(SIZE));
      const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cloud/cli.ts', 'import-oneroster', ...args], {
        env: { PATH: process.env.PATH ?? '', ATTENDANCE_DATA_DIR: dir, DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      const dry = run(path.join(dir, 'bundle'), '--dry-run');
      expect(dry.status).toBe(0);
      expect(JSON.parse(dry.stdout)).toMatchObject({ dry_run: true, created: 25 });
      const done = run(path.join(dir, 'bundle'));
      expect(done.stderr).toContain('users.csv: 8 rows read');
      expect(done.stderr).toContain('enrollments.csv: 15 rows read');
      expect(done.status).toBe(0);
      expect(JSON.parse(done.stdout)).toMatchObject({ dry_run: false, created: 25 });
      expect(run(path.join(dir, 'missing')).status).toBe(66);
      fs.rmSync(path.join(dir, 'bundle', 'manifest.csv'));
      const refused = run(path.join(dir, 'bundle'));
      expect(refused.status).toBe(65);
      expect(refused.stderr).toContain('missing_file');
    } finally {
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
