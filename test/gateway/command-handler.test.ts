import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../shared/ids.js';
import { CommandHandler } from '../../gateway/command-handler.js';
import { GatewayEvents } from '../../gateway/events.js';
import { RuntimeConfig } from '../../gateway/runtime-config.js';
import { SessionManager } from '../../gateway/sessions.js';
import type { GatewayStore } from '../../gateway/store/store.js';
import { Timetable, type CronScheduler } from '../../gateway/timetable.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { ROOM_CODE, SESSION_ID, classroomConfig, memoryStore, outboxEvents } from './classroom.js';

const NOW = Date.parse('2026-03-02T09:05:00Z');

describe('commands from the cloud', () => {
  let store: GatewayStore;
  let sessions: SessionManager;
  let runtime: RuntimeConfig;
  let processor: CommandHandler;
  let timetable: Timetable;
  let events: GatewayEvents;
  let logs: ReturnType<typeof memoryLogger>;
  let sessionChanges = 0;
  const scheduled: string[] = [];

  beforeEach(() => {
    logs = memoryLogger();
    events = new GatewayEvents(logs.log);
    store = memoryStore(classroomConfig(), events);
    sessions = new SessionManager({ store, events, roomCode: ROOM_CODE, log: logs.log });
    sessionChanges = 0;
    events.on('session.changed', {}, () => sessionChanges++);
    runtime = new RuntimeConfig(store, events, { heartbeatS: 60, defaultPeriodS: 300, idleFrame: false });
    scheduled.length = 0;
    const schedule: CronScheduler = (expr) => {
      scheduled.push(expr);
      return { destroy: () => undefined };
    };
    timetable = new Timetable({ store, events, sessions, runtime, log: logs.log, schedule, now: () => NOW });
    timetable.start();
    processor = new CommandHandler({ store, events, sessions, runtime, timetable, log: logs.log, now: () => NOW });
  });
  afterEach(() => {
    timetable.stop();
    store.close();
  });

  const command = (type: string, data: unknown, id = uuidv7()) => JSON.stringify({ id, type, at: new Date(NOW).toISOString(), data });
  const results = () => outboxEvents(store).filter((e) => e.type === 'command.result').map((e) => e.data);

  it('session.start starts the session, reports it, and answers ok', () => {
    const id = uuidv7();
    processor.handle(command('session.start', { session_id: SESSION_ID, course_id: 'CS101', period_s: 60, ends_at: '2026-03-02T10:30:00Z' }, id));
    expect(store.sessions.live()).toMatchObject({ id: SESSION_ID, courseId: 'CS101', periodS: 60, endsAt: Date.parse('2026-03-02T10:30:00Z'), source: 'cloud' });
    expect(outboxEvents(store).map((e) => e.type)).toEqual(['session.started', 'command.result']);
    expect(results()).toEqual([{ command_id: id, ok: true }]);
    expect(sessionChanges).toBe(1);
  });

  it('applies a repeated command once and re-sends the stored result', () => {
    const id = uuidv7();
    const start = command('session.start', { session_id: SESSION_ID, course_id: 'CS101', period_s: 300 }, id);
    processor.handle(start);
    processor.handle(start);
    expect(outboxEvents(store).filter((e) => e.type === 'session.started')).toHaveLength(1);
    expect(results()).toEqual([
      { command_id: id, ok: true },
      { command_id: id, ok: true },
    ]);
    expect(sessionChanges).toBe(1);
  });

  it('session.end ends the live session; ending an unknown one is an error result', () => {
    processor.handle(command('session.start', { session_id: SESSION_ID, course_id: null, period_s: 300 }));
    const endId = uuidv7();
    processor.handle(command('session.end', { session_id: SESSION_ID }, endId));
    expect(store.sessions.get(SESSION_ID)).toMatchObject({ endedAt: NOW, endReason: 'command' });
    const unknownId = uuidv7();
    processor.handle(command('session.end', { session_id: '0192f3a0-7c00-7000-8000-0000000000ff' }, unknownId));
    expect(results().slice(1)).toEqual([
      { command_id: endId, ok: true },
      { command_id: unknownId, ok: false, error: { code: 'unknown_session', message: 'unknown session 0192f3a0-7c00-7000-8000-0000000000ff' } },
    ]);
  });

  it('a failing command leaves no partial state, only its error result', () => {
    processor.handle(command('session.start', { session_id: SESSION_ID, course_id: null, period_s: 300 }));
    processor.handle(command('session.end', { session_id: SESSION_ID }));
    const again = uuidv7();
    processor.handle(command('session.start', { session_id: SESSION_ID, course_id: null, period_s: 300 }, again));
    expect(store.sessions.live()).toBeNull();
    expect(results().at(-1)).toEqual({ command_id: again, ok: false, error: { code: 'session_already_ended', message: `session ${SESSION_ID} already ended` } });
    // The failed start rolled back its savepoint, and with it its announcement.
    expect(sessionChanges).toBe(2);
  });

  it('config.set changes the runtime settings and keeps them', () => {
    const announced: unknown[] = [];
    events.on('config.changed', {}, (settings) => announced.push(settings));
    processor.handle(command('config.set', { heartbeat_s: 15, idle_frame: true }));
    expect(runtime.get()).toEqual({ heartbeatS: 15, defaultPeriodS: 300, idleFrame: true });
    expect(announced).toEqual([{ heartbeatS: 15, defaultPeriodS: 300, idleFrame: true }]);
    processor.handle(command('config.set', { default_period_s: 60 }));
    expect(new RuntimeConfig(store, events, { heartbeatS: 60, defaultPeriodS: 300, idleFrame: false }).get()).toEqual({ heartbeatS: 15, defaultPeriodS: 60, idleFrame: true });
  });

  it('timetable.set stores the timetable and schedules start and end jobs', () => {
    processor.handle(command('timetable.set', { timezone: 'Europe/Berlin', slots: [{ course_id: 'CS101', weekday: 1, start: '08:15', end: '09:45' }] }));
    expect(results().at(-1)?.ok).toBe(true);
    expect(scheduled).toEqual(['15 8 * * 1', '45 9 * * 1']);
    const bad = uuidv7();
    processor.handle(command('timetable.set', { timezone: 'Mars/Olympus', slots: [] }, bad));
    expect(results().at(-1)).toEqual({ command_id: bad, ok: false, error: { code: 'invalid_timetable', message: 'unknown time zone Mars/Olympus' } });
  });

  it('ping answers ok', () => {
    const id = uuidv7();
    processor.handle(command('ping', {}, id));
    expect(results()).toEqual([{ command_id: id, ok: true }]);
  });

  it.each([
    ['malformed JSON', '{"id": "0192f3a0-', null, null],
    ['no envelope', JSON.stringify({ hello: 'world' }), null, null],
    ['unknown type', command('session.pause', {}, '0192f3a0-7c00-7000-8000-00000000000a'), '0192f3a0-7c00-7000-8000-00000000000a', 'unknown_type'],
    ['invalid data', command('session.start', { session_id: 'x', period_s: 1 }, '0192f3a0-7c00-7000-8000-00000000000b'), '0192f3a0-7c00-7000-8000-00000000000b', 'invalid_data'],
    ['envelope with a bad date but an id', JSON.stringify({ id: 'cmd-17', type: 'ping', at: 'yesterday', data: {} }), 'cmd-17', 'invalid_envelope'],
  ])('%s: logged, answered with an error when an id is known, never thrown', (_name, raw, id, code) => {
    expect(() => processor.handle(raw)).not.toThrow();
    expect(logs.lines.some((l) => l.msg === 'command rejected')).toBe(true);
    if (id === null) expect(results()).toEqual([]);
    else expect(results()).toEqual([expect.objectContaining({ command_id: id, ok: false, error: expect.objectContaining({ code }) })]);
    expect(store.sessions.live()).toBeNull();
  });
});
