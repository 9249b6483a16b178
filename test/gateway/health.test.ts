import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Health } from '../../gateway/health.js';
import { GatewayEvents } from '../../gateway/events.js';
import { Heartbeat } from '../../gateway/heartbeat.js';
import { RuntimeConfig } from '../../gateway/runtime-config.js';
import type { GatewayStore } from '../../gateway/store/store.js';
import { SdNotifier } from '../../gateway/systemd/notify.js';
import { Watchdog } from '../../gateway/systemd/watchdog.js';
import { watchdogIntervalMs } from '../../gateway/systemd/notify.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { RecordingAdvertiser } from '../fakes/recording-advertiser.js';
import { memoryStore, outboxEvents } from './classroom.js';

/** A notifier that records instead of running systemd-notify. */
class RecordingNotifier extends SdNotifier {
  readonly sent: string[][] = [];
  constructor() {
    super({ env: { NOTIFY_SOCKET: '/run/test.sock' }, log: memoryLogger().log });
  }
  override notify(...assignments: string[]): Promise<void> {
    this.sent.push(assignments);
    return Promise.resolve();
  }
}

describe('health and the systemd watchdog', () => {
  let store: GatewayStore;
  let radio: RecordingAdvertiser;
  let now = 0;
  let rotationError: string | null = null;
  let notifier: RecordingNotifier;
  let watchdog: Watchdog;
  let logs: ReturnType<typeof memoryLogger>;

  beforeEach(async () => {
    store = memoryStore();
    radio = new RecordingAdvertiser();
    await radio.start();
    now = 1_000_000;
    rotationError = null;
    notifier = new RecordingNotifier();
    logs = memoryLogger();
    const health = new Health({ advertiser: radio, store, rotationError: () => rotationError, graceMs: 20_000, now: () => now });
    watchdog = new Watchdog(notifier, health, 15_000, logs.log);
  });
  afterEach(() => store.close());

  it('feeds the watchdog while radio and store are healthy', () => {
    expect(watchdog.tick().ok).toBe(true);
    expect(notifier.sent).toEqual([['WATCHDOG=1']]);
  });

  it('tolerates an adapter reset for the grace period, then withholds the watchdog until the radio is back', () => {
    radio.setState('poweredOff');
    expect(watchdog.tick().ok).toBe(true);
    now += 19_000;
    expect(watchdog.tick().ok).toBe(true);
    now += 2_000;
    const report = watchdog.tick();
    expect(report).toMatchObject({ ok: false, radio: { ok: false, state: 'poweredOff' } });
    watchdog.tick();
    expect(notifier.sent).toEqual([['WATCHDOG=1'], ['WATCHDOG=1']]);
    expect(logs.lines.filter((l) => l.msg.startsWith('unhealthy: watchdog withheld'))).toHaveLength(1);
    radio.setState('poweredOn');
    expect(watchdog.tick().ok).toBe(true);
    expect(notifier.sent.at(-1)).toEqual(['WATCHDOG=1']);
  });

  it('withholds the watchdog when rotations cannot be written (disk full, SD card failing)', () => {
    rotationError = 'database or disk is full';
    watchdog.tick();
    now += 25_000;
    expect(watchdog.tick()).toMatchObject({ ok: false, store: { ok: false, error: 'database or disk is full' } });
  });

  it('reads the ping interval from WATCHDOG_USEC (half of it), only when meant for this process', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '41' }, 42)).toBeNull();
    expect(watchdogIntervalMs({}, 42)).toBeNull();
  });
});

describe('heartbeat', () => {
  it('reports uptime, clock, radio, outbox depth (other events waiting), memory and version, keeping only the newest unsent one', () => {
    const store = memoryStore();
    const events = new GatewayEvents(memoryLogger().log);
    const hb = new Heartbeat({
      store,
      events,
      runtime: new RuntimeConfig(store, events, { heartbeatS: 60, defaultPeriodS: 300, idleFrame: false }),
      radioState: () => 'poweredOn',
      sessionId: () => null,
      version: '1.2.3',
      log: memoryLogger().log,
      now: () => Date.parse('2026-03-02T09:00:00Z'),
      uptimeS: () => 3600.4,
    });
    store.transaction(() => store.outbox.append('token.rotated', { session_id: '0192f3a0-7c00-7000-8000-000000000001', w: 7, advertised_at: '2026-03-02T09:00:00Z' }, 0));
    hb.beat();
    hb.beat();
    const beats = outboxEvents(store).filter((e) => e.type === 'heartbeat');
    expect(beats).toHaveLength(1);
    expect(beats[0]!.data).toMatchObject({ uptime_s: 3600, clock: '2026-03-02T09:00:00.000Z', radio: 'poweredOn', outbox_depth: 1, version: '1.2.3', session_id: null });
    expect(beats[0]!.data.memory_rss).toBeGreaterThan(1_000_000);
    store.close();
  });
});
