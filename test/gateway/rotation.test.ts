import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { advertisingData } from '../../shared/advertisement.js';
import { OnAirEncoder } from '../../gateway/on-air.js';
import { GatewayEvents } from '../../gateway/events.js';
import { Rotation } from '../../gateway/rotation.js';
import { SessionManager } from '../../gateway/sessions.js';
import type { GatewayStore } from '../../gateway/store/store.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { RecordingAdvertiser } from '../fakes/recording-advertiser.js';
import { ROOM_CODE, ROOM_SECRET_HEX, SESSION_ID, classroomConfig, memoryStore, outboxEvents } from './classroom.js';

/** docs/protocol.md golden vectors: window 5890752 starts at 1767225600000 (period 300). */
const W0_START = 1767225600000;
const FRAME_W0 = '01000123450059e2c006c9a0994e042a82';
const FRAME_W1 = '01000123450059e2c1ad8b3c8fc18cb38c';
const adHex = (frameHex: string) => advertisingData(Buffer.from(frameHex, 'hex')).toString('hex');

describe('rotation', () => {
  let store: GatewayStore;
  let radio: RecordingAdvertiser;
  let sessions: SessionManager;
  let rotation: Rotation;
  let events: GatewayEvents;
  let logs: ReturnType<typeof memoryLogger>;
  let idleFrame = false;

  function build(): Rotation {
    return new Rotation({
      store,
      events,
      sessions,
      advertiser: radio,
      encoder: new OnAirEncoder({ roomCode: ROOM_CODE, roomSecret: Buffer.from(ROOM_SECRET_HEX, 'hex'), companyId: 0xffff, localName: 'ATT' }),
      idleFrame: () => idleFrame,
      log: logs.log,
    });
  }

  beforeEach(async () => {
    vi.useFakeTimers({ now: W0_START + 120_000 });
    idleFrame = false;
    logs = memoryLogger();
    events = new GatewayEvents(logs.log);
    store = memoryStore(classroomConfig(), events);
    radio = new RecordingAdvertiser();
    await radio.start();
    sessions = new SessionManager({ store, events, roomCode: ROOM_CODE, log: logs.log });
    rotation = build();
    rotation.start();
  });

  afterEach(() => {
    rotation.stop();
    store.close();
    vi.useRealTimers();
  });

  const startSession = (endsAt: number | null = null, periodS = 300) =>
    sessions.start({ id: SESSION_ID, courseId: 'CS101', periodS, endsAt, source: 'cloud' }, Date.now());

  it('advertises nothing while no session is live', () => {
    expect(radio.onAirHex()).toBeNull();
    expect(radio.log.at(-1)?.payload).toBeNull();
  });

  it('advertises the idle frame (room code, no token) when configured', () => {
    idleFrame = true;
    rotation.refresh('config');
    expect(radio.onAirHex()).toBe('020106' + '08ffffff' + '00' + '00012345');
  });

  it('puts the golden-vector bytes on air and changes them exactly at the window boundary', () => {
    startSession();
    expect(radio.onAirHex()).toBe(adHex(FRAME_W0));
    vi.advanceTimersByTime(W0_START + 300_000 - 1 - Date.now());
    expect(radio.onAirHex()).toBe(adHex(FRAME_W0));
    vi.advanceTimersByTime(1);
    expect(Date.now()).toBe(W0_START + 300_000);
    expect(radio.onAirHex()).toBe(adHex(FRAME_W1));
    expect(radio.log.at(-1)!.at).toBe(W0_START + 300_000);
  });

  it('logs every rotation in the advertised-windows log and the outbox, closing the previous window', () => {
    startSession();
    vi.advanceTimersByTime(2 * 300_000);
    const log = store.advertisedWindows.forSession(SESSION_ID);
    expect(log.map((e) => e.w)).toEqual([5890752, 5890753, 5890754]);
    expect(log[0]).toMatchObject({ token: '06c9a0994e042a82', advertisedFrom: W0_START + 120_000, advertisedTo: W0_START + 300_000 });
    expect(log[1]).toMatchObject({ token: 'ad8b3c8fc18cb38c', advertisedFrom: W0_START + 300_000, advertisedTo: W0_START + 600_000 });
    expect(log[2]!.advertisedTo).toBeNull();
    const rotated = outboxEvents(store).filter((e) => e.type === 'token.rotated');
    expect(rotated.map((e) => [e.data.w, e.data.advertised_at])).toEqual([
      [5890752, new Date(W0_START + 120_000).toISOString()],
      [5890753, new Date(W0_START + 300_000).toISOString()],
      [5890754, new Date(W0_START + 600_000).toISOString()],
    ]);
  });

  it('rotates through many 10 s windows without drifting from the wall clock', () => {
    startSession(null, 10);
    const changes: number[] = [];
    radio.on('applied', (e: { at: number }) => changes.push(e.at));
    vi.advanceTimersByTime(1000 * 10_000);
    expect(changes).toHaveLength(1000);
    expect(changes.every((t) => t % 10_000 === 0)).toBe(true);
  });

  it('repairs the window within a second after the wall clock steps forward or back', () => {
    startSession();
    vi.setSystemTime(W0_START + 3 * 300_000 + 7000); // NTP step: +15 min, timers untouched
    vi.advanceTimersByTime(1000);
    expect(store.advertisedWindows.current()?.w).toBe(5890755);
    vi.setSystemTime(W0_START + 10_000); // and back again
    vi.advanceTimersByTime(1000);
    expect(store.advertisedWindows.current()?.w).toBe(5890752);
    expect(radio.onAirHex()).toBe(adHex(FRAME_W0));
    expect(logs.lines.filter((l) => l.msg.startsWith('window jumped')).map((l) => [l.fromW, l.toW])).toEqual([
      [5890752, 5890755],
      [5890755, 5890752],
    ]);
  });

  it('after the process was suspended, advertises window(now) within a second and ends a session that expired meanwhile', () => {
    const endsAt = W0_START + 3_600_000;
    startSession(endsAt);
    // SIGSTOP for 30 minutes: the wall clock moved while no timer ran. The boundary timer is armed
    // for a wall time long gone; the once-a-second check must notice.
    vi.setSystemTime(W0_START + 30 * 60_000 + 500);
    vi.advanceTimersByTime(1000);
    expect(store.advertisedWindows.current()?.w).toBe(5890752 + 6);
    vi.setSystemTime(endsAt + 20 * 60_000);
    vi.advanceTimersByTime(1000);
    expect(store.sessions.get(SESSION_ID)).toMatchObject({ endedAt: endsAt, endReason: 'scheduled_end' });
    expect(radio.onAirHex()).toBeNull();
    expect(store.advertisedWindows.current()).toBeNull();
  });

  it('ends a session with ends_at by itself, on time, and reports it', () => {
    const endsAt = W0_START + 450_000; // mid-window
    startSession(endsAt);
    vi.advanceTimersByTime(endsAt - Date.now() - 1);
    expect(radio.onAirHex()).toBe(adHex(FRAME_W1));
    vi.advanceTimersByTime(1);
    expect(radio.onAirHex()).toBeNull();
    const ended = outboxEvents(store).find((e) => e.type === 'session.ended');
    expect(ended?.data).toEqual({ session_id: SESSION_ID, ended_at: new Date(endsAt).toISOString(), reason: 'scheduled_end' });
    expect(store.advertisedWindows.forSession(SESSION_ID).at(-1)?.advertisedTo).toBe(endsAt);
  });

  it('a restarted rotation (new process) resumes the live session at the window of now', () => {
    startSession();
    rotation.stop();
    vi.setSystemTime(W0_START + 300_000 + 42_000); // the daemon was down across a boundary
    const restartedRadio = new RecordingAdvertiser();
    radio = restartedRadio;
    void restartedRadio.start();
    rotation = build();
    rotation.start();
    expect(restartedRadio.onAirHex()).toBe(adHex(FRAME_W1));
    expect(store.advertisedWindows.current()).toMatchObject({ w: 5890753, advertisedFrom: W0_START + 342_000 });
  });

  it('keeps running and reports the failure when the advertised-windows log cannot be written', () => {
    startSession();
    store.db.exec('DROP TABLE advertised_windows');
    vi.advanceTimersByTime(300_000);
    expect(radio.onAirHex()).toBe(adHex(FRAME_W1)); // the radio was still updated first
    expect(rotation.error()).toMatch(/no such table/);
    expect(logs.lines.some((l) => l.msg === 'rotation failed; retrying at the next check')).toBe(true);
  });
});
