/**
 * Privacy (docs/privacy.md): raw evidence has a shelf life. The nightly job deletes submissions
 * and verifications of sessions ended more than N days ago and every expired challenge, and keeps
 * the attendance decisions and enrolled devices. Also: the relying-party configuration is checked
 * at start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { frameAt, setupCourse, type CourseFixture } from '../helpers/fixtures.js';
import { purgeRawData, startRetentionJob } from '../../cloud/jobs/retention.js';
import { ConfigError, loadCloudConfig } from '../../cloud/config.js';
import type { SoftwarePhone } from '../fakes/authenticator.js';
import { PERIOD, endSession, phonesFor, startSession, verify, verifyOptions } from './biometric-fixture.js';

const DAY = 86_400_000;
let h: CloudHarness;
let f: CourseFixture;
let phones: SoftwarePhone[];

async function counts(sessionId: string) {
  const db = h.store.db;
  const n = async (q: Promise<unknown[]>) => (await q).length;
  return {
    submissions: await n(db.selectFrom('submissions').select('w').where('session_id', '=', sessionId).execute()),
    verifications: await n(db.selectFrom('verifications').select('id').where('session_id', '=', sessionId).execute()),
    attendance: await n(db.selectFrom('attendance').select('status').where('session_id', '=', sessionId).execute()),
  };
}

const challenges = () => h.store.db.selectFrom('webauthn_challenges').select(['expires_at']).execute();

/** Jumps the clock by days; bearer tokens live an hour, so everyone signs in again. */
async function daysLater(days: number): Promise<void> {
  h.clock.advance(days * DAY);
  for (const u of [f.teacher, f.admin, ...f.students]) {
    const { token } = await h.deps.tokens.issue({ id: u.id, role: u === f.teacher ? 'teacher' : u === f.admin ? 'admin' : 'student' });
    u.auth = { Authorization: `Bearer ${token}` };
  }
}

/** A 5-minute session in which every student is seen and verifies; returns its id. */
async function runSession(): Promise<string> {
  const sid = await startSession(h, f);
  for (let m = 0; m < 5; m++) {
    for (const s of f.students) await h.http().post('/api/v1/student/token/submit').set(s.auth).send({ frame: frameAt(f, sid, PERIOD, h.clock()) });
    h.clock.advance(60_000);
  }
  for (const [i, s] of f.students.entries()) expect((await verify(h, s, sid, phones[i]!)).status).toBe(200);
  await endSession(h, f, sid);
  return sid;
}

beforeAll(async () => {
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 2, code: 'RET1' });
  phones = await phonesFor(h, f.students);
});
afterAll(() => h.close());

describe('retention purge', () => {
  it('deletes old raw submissions, verifications and expired challenges, keeps decisions and devices', async () => {
    const old = await runSession();
    await daysLater(40);
    const recent = await runSession();
    // One challenge still valid, one issued long ago and expired.
    await verifyOptions(h, f.students[0]!, recent);
    expect((await challenges()).some((c) => c.expires_at < h.clock.now)).toBe(true);
    const decisionsBefore = await h.store.db.selectFrom('attendance').select(['session_id', 'student_id', 'status', 'verified', 'reasons']).where('session_id', '=', old).orderBy('student_id').execute();
    expect(decisionsBefore.map((d) => d.status)).toEqual(['present', 'present']);

    const deleted = await purgeRawData(h.store, h.clock.now, 30);
    expect(deleted).toMatchObject({ submissions: 10, verifications: 2 });
    expect(deleted.challenges).toBeGreaterThan(0);

    expect(await counts(old)).toEqual({ submissions: 0, verifications: 0, attendance: 2 });
    expect(await counts(recent)).toEqual({ submissions: 10, verifications: 2, attendance: 2 });
    // Left: the fresh challenge and the two just used for the recent verifications, until they expire.
    const left = await challenges();
    expect(left).toHaveLength(3);
    expect(left.every((c) => c.expires_at > h.clock.now)).toBe(true);
    const decisionsAfter = await h.store.db.selectFrom('attendance').select(['session_id', 'student_id', 'status', 'verified', 'reasons']).where('session_id', '=', old).orderBy('student_id').execute();
    expect(decisionsAfter).toEqual(decisionsBefore);
    const devices = await h.store.db.selectFrom('webauthn_credentials').select('status').execute();
    expect(devices).toHaveLength(2);
  });

  it('runs from node-cron under the job lock and logs counts, never a challenge', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const job = startRetentionJob({ store: h.store, logger, clock: h.clock, retentionDays: 30, timezone: 'Europe/Berlin', schedule: '17 3 * * *' });
    try {
      const next = job.nextRun();
      expect(next).not.toBeNull();
      expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' }).format(next!)).toBe('03:17');
      await verifyOptions(h, f.students[1]!, await runSession());
      h.clock.advance(10 * 60_000);
      const expired = (await challenges()).filter((c) => c.expires_at <= h.clock.now).length;
      expect(expired).toBeGreaterThanOrEqual(3);
      const result = await job.runOnce();
      expect(result).toEqual({ submissions: 0, verifications: 0, witnessedWindows: 0, checkinRefusals: 0, challenges: expired, ingestedEvents: 0, commands: 0, emailVerifications: 0 });
      expect(await challenges()).toEqual([]);
    } finally {
      await job.stop();
    }
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; deleted?: unknown });
    expect(logged.find((l) => l.msg === 'retention purge done')?.deleted).toMatchObject({ submissions: 0, verifications: 0 });
    expect(lines.join('\n')).not.toMatch(/challenge_hash|"challenge":/);
  });
});

describe('relying-party configuration', () => {
  const base = { ATTENDANCE_DATA_DIR: '/tmp/att-config-test' };

  it('reads RP ID, origins, window, challenge lifetime and retention from the environment', () => {
    const c = loadCloudConfig({
      ...base, ATTENDANCE_RP_ID: 'uni.example', ATTENDANCE_ORIGINS: 'https://attendance.uni.example, android:apk-key-hash:abc_DEF-123',
      ATTENDANCE_VERIFY_OPENS_MIN: '5', ATTENDANCE_VERIFY_CLOSES_MIN: '20', ATTENDANCE_CHALLENGE_TTL_S: '120', ATTENDANCE_RETENTION_DAYS: '90',
    });
    expect(c.webauthn).toEqual({
      rpId: 'uni.example', rpName: 'Classroom attendance', origins: ['https://attendance.uni.example', 'android:apk-key-hash:abc_DEF-123'],
      window: { opensBeforeEndS: 300, closesAfterEndS: 1200 }, challengeTtlS: 120,
    });
    expect(c.retentionDays).toBe(90);
    expect(loadCloudConfig(base).webauthn).toMatchObject({ rpId: 'localhost', origins: ['http://localhost:8000'], window: { opensBeforeEndS: 600, closesAfterEndS: 900 } });
  });

  it.each([
    [{ ATTENDANCE_RP_ID: 'uni.example', ATTENDANCE_ORIGINS: 'https://evil-uni.example' }, 'ATTENDANCE_RP_ID'],
    [{ ATTENDANCE_ORIGINS: 'http://attendance.uni.example' }, 'ATTENDANCE_ORIGINS'],
    [{ ATTENDANCE_ORIGINS: 'https://attendance.uni.example/app' }, 'ATTENDANCE_ORIGINS'],
    [{ ATTENDANCE_RETENTION_DAYS: '0' }, 'ATTENDANCE_RETENTION_DAYS'],
  ])('refuses to start with %j', (env, variable) => {
    expect(() => loadCloudConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => loadCloudConfig({ ...base, ...env })).toThrow(variable);
  });
});
