/**
 * Retention of proof of proximity (docs/privacy.md, "Retention"): the windows a gateway witnessed
 * a phone in (with its BLE address) and the refused check-ins are raw evidence like submissions.
 * The nightly purge deletes them for sessions ended more than N days ago, and deletes refusals
 * naming no session once received that long ago; a recent or still-live session keeps its rows,
 * and the attendance record keeps its count of witnessed windows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { setupCourse, type CourseFixture } from '../helpers/fixtures.js';
import { purgeRawData } from '../../cloud/jobs/retention.js';
import { PERIOD, endSession, startSession } from './biometric-fixture.js';

const DAY = 86_400_000;
const RETENTION_DAYS = 30;
const UNKNOWN_SESSION = '0192f3a0-7c00-7000-8000-00000000dead';
let h: CloudHarness;
let f: CourseFixture;
let eventNo = 0;

/** One witnessed window and one refusal at the clock's time, as the check-in ingest stores them. */
async function checkinRows(sessionId: string, witnessed: boolean): Promise<void> {
  const at = h.clock();
  const w = Math.floor(at / (PERIOD * 1000));
  const eventId = () => `0192f3a0-7c00-7000-8000-${String(++eventNo).padStart(12, '0')}`;
  if (witnessed) {
    await h.store.db.insertInto('witnessed_windows').values({
      session_id: sessionId, student_id: f.students[0]!.id, w, key_id: 'a1'.repeat(16), gateway_id: 'gw-ret', event_id: eventId(),
      rssi: -60, peer: 'aa:bb:cc:dd:ee:01', latency_ms: 150, at, received_at: at,
    }).execute();
  }
  await h.store.db.insertInto('checkin_refusals').values({
    event_id: eventId(), gateway_id: 'gw-ret', session_id: sessionId, key_id: 'a1'.repeat(16), w, reason: 'signature_invalid', at, received_at: at,
  }).execute();
}

/** Jumps the clock by days; the teacher's bearer token lives an hour, so they sign in again. */
async function daysLater(days: number): Promise<void> {
  h.clock.advance(days * DAY);
  f.teacher.auth = { Authorization: `Bearer ${(await h.deps.tokens.issue({ id: f.teacher.id, role: 'teacher' })).token}` };
}

async function rowsOf(sessionId: string) {
  const db = h.store.db;
  return {
    witnessed: (await db.selectFrom('witnessed_windows').select('peer').where('session_id', '=', sessionId).execute()).length,
    refusals: (await db.selectFrom('checkin_refusals').select('id').where('session_id', '=', sessionId).execute()).length,
  };
}

let oldSid: string;
let recentSid: string;
let liveSid: string;

beforeAll(async () => {
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 1, code: 'RET2' });
  oldSid = await startSession(h, f);
  await checkinRows(oldSid, true);
  await checkinRows(UNKNOWN_SESSION, false);
  await endSession(h, f, oldSid);
  await h.store.db.updateTable('attendance').set({ witnessed_windows: 1 }).where('session_id', '=', oldSid).execute();

  await daysLater(RETENTION_DAYS - 5);
  recentSid = await startSession(h, f);
  await checkinRows(recentSid, true);
  await checkinRows(UNKNOWN_SESSION, false);
  await endSession(h, f, recentSid);
  // Left running: however long ago its rows came, a live session is never purged.
  liveSid = await startSession(h, f);
  await checkinRows(liveSid, true);
});
afterAll(() => h.close());

describe('retention of witnessed windows and check-in refusals', () => {
  it('removes the rows of sessions ended over the retention period and old refusals of an unknown session; keeps recent and live ones', async () => {
    await daysLater(7);
    expect(await rowsOf(oldSid)).toEqual({ witnessed: 1, refusals: 1 });
    const deleted = await purgeRawData(h.store, h.clock(), RETENTION_DAYS);
    expect(deleted).toMatchObject({ witnessedWindows: 1, checkinRefusals: 2 });
    expect(await rowsOf(oldSid)).toEqual({ witnessed: 0, refusals: 0 });
    expect(await rowsOf(recentSid)).toEqual({ witnessed: 1, refusals: 1 });
    expect(await rowsOf(liveSid)).toEqual({ witnessed: 1, refusals: 1 });
    expect(await rowsOf(UNKNOWN_SESSION)).toEqual({ witnessed: 0, refusals: 1 });
    const record = await h.store.db.selectFrom('attendance').select('witnessed_windows').where('session_id', '=', oldSid).executeTakeFirstOrThrow();
    expect(record.witnessed_windows).toBe(1);
  });

  it('once the recent session is past the period too, its rows go; the live session still keeps its own', async () => {
    await daysLater(RETENTION_DAYS);
    const deleted = await purgeRawData(h.store, h.clock(), RETENTION_DAYS);
    expect(deleted).toMatchObject({ witnessedWindows: 1, checkinRefusals: 2 });
    expect(await rowsOf(recentSid)).toEqual({ witnessed: 0, refusals: 0 });
    expect(await rowsOf(UNKNOWN_SESSION)).toEqual({ witnessed: 0, refusals: 0 });
    expect(await rowsOf(liveSid)).toEqual({ witnessed: 1, refusals: 1 });
  });
});
