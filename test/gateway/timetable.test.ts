import cron from 'node-cron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UUIDV7_RE } from '../../shared/ids.js';
import { GatewayEvents } from '../../gateway/events.js';
import { RuntimeConfig } from '../../gateway/runtime-config.js';
import { SessionManager } from '../../gateway/sessions.js';
import { KV } from '../../gateway/store/kv.js';
import type { GatewayStore } from '../../gateway/store/store.js';
import { Timetable, nodeCronScheduler, type CronScheduler, type TimetableData } from '../../gateway/timetable.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { ROOM_CODE, SESSION_ID, classroomConfig, memoryStore, outboxEvents } from './classroom.js';

// Monday 2 March 2026, 08:15 in Berlin (CET, UTC+1).
const MONDAY_0815_BERLIN = Date.parse('2026-03-02T07:15:00Z');

const timetable: TimetableData = {
  timezone: 'Europe/Berlin',
  slots: [
    { course_id: 'CS101', weekday: 1, start: '08:15', end: '09:45', period_s: 60 },
    { course_id: 'MA201', weekday: 3, start: '14:00', end: '15:30' },
  ],
};

describe('timetable', () => {
  let store: GatewayStore;
  let sessions: SessionManager;
  let now = MONDAY_0815_BERLIN;
  let jobs: Array<{ expr: string; tz: string; run: () => void; destroyed: boolean }>;
  let tt: Timetable;

  beforeEach(() => {
    const { log } = memoryLogger();
    const events = new GatewayEvents(log);
    store = memoryStore(classroomConfig(), events);
    sessions = new SessionManager({ store, events, roomCode: ROOM_CODE, log });
    jobs = [];
    const schedule: CronScheduler = (expr, run, tz) => {
      const job = { expr, tz, run, destroyed: false };
      jobs.push(job);
      return { destroy: () => void (job.destroyed = true) };
    };
    now = MONDAY_0815_BERLIN - 60_000;
    tt = new Timetable({ store, events, sessions, runtime: new RuntimeConfig(store, events, { heartbeatS: 60, defaultPeriodS: 300, idleFrame: false }), log, schedule, now: () => now });
    store.transaction((tx) => tt.setInTx(tx, timetable));
    tt.start();
  });
  afterEach(() => {
    tt.stop();
    store.close();
  });

  const fire = (expr: string) => jobs.filter((j) => j.expr === expr && !j.destroyed).forEach((j) => j.run());

  it('schedules a start and an end job per slot, in the timetable time zone, with valid cron syntax', () => {
    expect(jobs.map((j) => [j.expr, j.tz])).toEqual([
      ['15 8 * * 1', 'Europe/Berlin'],
      ['45 9 * * 1', 'Europe/Berlin'],
      ['0 14 * * 3', 'Europe/Berlin'],
      ['30 15 * * 3', 'Europe/Berlin'],
    ]);
    expect(jobs.every((j) => cron.validate(j.expr))).toBe(true);
  });

  it('starts the slot session by itself with a UUIDv7 id, and ends it at the slot end', () => {
    now = MONDAY_0815_BERLIN;
    fire('15 8 * * 1');
    const live = store.sessions.live();
    expect(live?.id).toMatch(UUIDV7_RE);
    expect(live).toMatchObject({ courseId: 'CS101', periodS: 60, source: 'timetable', endsAt: Date.parse('2026-03-02T08:45:00Z') });
    expect(outboxEvents(store).find((e) => e.type === 'session.started')?.data).toMatchObject({ source: 'timetable', course_id: 'CS101' });
    now = Date.parse('2026-03-02T08:45:00Z');
    fire('45 9 * * 1');
    expect(store.sessions.get(live!.id)).toMatchObject({ endReason: 'timetable', endedAt: now });
  });

  it('does not replace a session a teacher started, and does not restart a slot ended early the same day', () => {
    sessions.start({ id: SESSION_ID, courseId: 'CS101', periodS: 300, endsAt: null, source: 'cloud' }, now);
    now = MONDAY_0815_BERLIN;
    fire('15 8 * * 1');
    expect(store.sessions.live()?.id).toBe(SESSION_ID);
    sessions.end(SESSION_ID, 'command', now);
    tt.startSlot(timetable, timetable.slots[0]!);
    const started = store.sessions.live()!;
    expect(started.source).toBe('timetable');
    sessions.end(started.id, 'command', now + 60_000);
    now += 120_000;
    tt.reload(); // e.g. a daemon restart: catch-up must not start it a second time today
    expect(store.sessions.live()).toBeNull();
  });

  it('catches up when the gateway boots in the middle of a slot', () => {
    now = Date.parse('2026-03-02T08:00:00Z'); // 09:00 in Berlin
    tt.reload();
    expect(store.sessions.live()).toMatchObject({ courseId: 'CS101', endsAt: Date.parse('2026-03-02T08:45:00Z') });
    expect(store.kv.get<Record<string, string>>(KV.timetableRuns)).toEqual({ '1|08:15|09:45|CS101': '2026-03-02' });
  });

});

describe('timetable on node-cron', () => {
  let store: GatewayStore;
  let tt: Timetable;

  beforeEach(() => {
    // One minute before the Monday slot; node-cron reads the same (fake) clock as the timers.
    vi.useFakeTimers({ now: MONDAY_0815_BERLIN - 60_000 });
    const { log } = memoryLogger('warn');
    const events = new GatewayEvents(log);
    store = memoryStore(classroomConfig(), events);
    const sessions = new SessionManager({ store, events, roomCode: ROOM_CODE, log });
    tt = new Timetable({ store, events, sessions, runtime: new RuntimeConfig(store, events, { heartbeatS: 60, defaultPeriodS: 300, idleFrame: false }), log, schedule: nodeCronScheduler });
    store.transaction((tx) => tt.setInTx(tx, timetable));
  });
  afterEach(() => {
    tt.stop();
    store.close();
    vi.useRealTimers();
  });

  it('starts the slot when node-cron fires at its time', async () => {
    const before = cron.getTasks().size;
    tt.start();
    expect(cron.getTasks().size).toBe(before + 4);
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(store.sessions.live()).toMatchObject({ courseId: 'CS101', source: 'timetable' });
  });

  it('fires no job after stop(), not even at the next slot', async () => {
    const before = cron.getTasks().size;
    tt.start();
    tt.stop();
    expect(cron.getTasks().size).toBe(before);
    // Past this Monday's start and end and Wednesday's slot.
    await vi.advanceTimersByTimeAsync(3 * 24 * 3600_000);
    expect(store.sessions.live()).toBeNull();
    expect(outboxEvents(store).filter((e) => e.type === 'session.started')).toEqual([]);
  });
});
