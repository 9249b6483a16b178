/**
 * The gateway daemon: composes store, radio, sessions, rotation, timetable, commands, MQTT link,
 * heartbeat and systemd watchdog. The constructor only wires objects; I/O starts in start() and
 * ends in stop(). The parts hear each other through one event bus, which isolates every listener:
 * one failing part logs an error instead of crashing the daemon (and with it the beacon of a
 * whole classroom).
 */
import type { Logger } from 'pino';
import { guarded } from '../shared/guarded.js';
import type { Advertiser, AdvertisingPayload, RadioState } from './ble/advertiser.js';
import { BlenoGatt, hostsGatt } from './ble/bleno-gatt.js';
import { CheckinService } from './ble/checkin-service.js';
import { CommandHandler } from './command-handler.js';
import type { GatewayConfig } from './config.js';
import type { GatewayEvents } from './events.js';
import { Health } from './health.js';
import { Heartbeat } from './heartbeat.js';
import { OutboxDrain } from './mqtt/drain.js';
import { MqttLink } from './mqtt/link.js';
import { OnAirEncoder } from './on-air.js';
import { Rotation } from './rotation.js';
import { RuntimeConfig } from './runtime-config.js';
import { SessionManager } from './sessions.js';
import type { GatewayStatusSnapshot } from './status-report.js';
import { KV } from './store/kv.js';
import type { GatewayStore } from './store/store.js';
import { SdNotifier, watchdogIntervalMs } from './systemd/notify.js';
import { Watchdog } from './systemd/watchdog.js';
import { Timetable, type CronScheduler } from './timetable.js';

export interface DaemonDeps {
  config: GatewayConfig;
  /** Opened with `events`, so that its commits reach the parts listening there. */
  store: GatewayStore;
  events: GatewayEvents;
  advertiser: Advertiser;
  log: Logger;
  version: string;
  radioKind: string;
  notifier?: SdNotifier;
  env?: NodeJS.ProcessEnv;
  cronScheduler?: CronScheduler;
  mqttBackoff?: { minMs: number; maxMs: number };
  /** MQTT messages the outbox drain keeps in flight at once. */
  drainMaxInFlight?: number;
}

export class GatewayDaemon {
  readonly sessions: SessionManager;
  readonly rotation: Rotation;
  readonly runtime: RuntimeConfig;
  readonly timetable: Timetable;
  readonly commands: CommandHandler;
  readonly drain: OutboxDrain;
  readonly link: MqttLink;
  readonly heartbeat: Heartbeat;
  readonly health: Health;
  /** The GATT check-in (docs/gateway.md §The check-in service), served when the radio is bleno's. */
  readonly checkins: CheckinService;
  private readonly gatt: BlenoGatt;
  private readonly notifier: SdNotifier;
  private readonly watchdog: Watchdog;
  private readonly snapshot: GatewayStatusSnapshot;
  private pruneTimer: NodeJS.Timeout | null = null;
  // The advertiser is an EventEmitter of its own; these put what it says on the bus.
  private readonly radioState = (state: RadioState) => this.deps.events.emit('radio.state', state);
  private readonly radioApplied = (e: { payload: AdvertisingPayload | null; at: number }) => this.deps.events.emit('radio.applied', e);

  constructor(private readonly deps: DaemonDeps) {
    const { config, store, events, advertiser, log } = deps;
    this.snapshot = { kind: deps.radioKind, state: 'unknown', onAir: null, appliedAt: null, link: 'stopped' };
    this.runtime = new RuntimeConfig(store, events, { heartbeatS: config.heartbeatS, defaultPeriodS: config.defaultPeriodS, idleFrame: config.idleFrame });
    this.sessions = new SessionManager({ store, events, roomCode: config.roomCode, log: log.child({ module: 'sessions' }) });
    this.rotation = new Rotation({
      store,
      events,
      sessions: this.sessions,
      advertiser,
      encoder: new OnAirEncoder(config),
      idleFrame: () => this.runtime.get().idleFrame,
      log: log.child({ module: 'rotation' }),
    });
    this.checkins = new CheckinService({ store, roomCode: config.roomCode, onAir: () => this.rotation.current(), log: log.child({ module: 'checkin' }) });
    this.gatt = new BlenoGatt({ service: this.checkins, logger: log.child({ module: 'checkin' }) });
    this.timetable = new Timetable({
      store,
      events,
      sessions: this.sessions,
      runtime: this.runtime,
      log: log.child({ module: 'timetable' }),
      ...(deps.cronScheduler ? { schedule: deps.cronScheduler } : {}),
    });
    this.commands = new CommandHandler({ store, events, sessions: this.sessions, runtime: this.runtime, timetable: this.timetable, log: log.child({ module: 'commands' }) });
    this.drain = new OutboxDrain({ store, events, log: log.child({ module: 'outbox' }), ...(deps.drainMaxInFlight ? { maxInFlight: deps.drainMaxInFlight } : {}) });
    this.link = new MqttLink(
      {
        url: config.mqtt.url,
        gatewayId: config.gatewayId,
        topicPrefix: config.mqtt.topicPrefix,
        username: config.mqtt.username,
        password: config.mqtt.password,
        ca: config.mqtt.ca,
        version: deps.version,
        checkin: hostsGatt(deps.advertiser),
        backoffMinMs: deps.mqttBackoff?.minMs,
        backoffMaxMs: deps.mqttBackoff?.maxMs,
      },
      { drain: this.drain, events, log: log.child({ module: 'mqtt' }) },
    );
    this.heartbeat = new Heartbeat({
      store,
      events,
      runtime: this.runtime,
      radioState: () => advertiser.health().state,
      sessionId: () => this.sessions.live()?.id ?? null,
      version: deps.version,
      log: log.child({ module: 'heartbeat' }),
    });
    this.health = new Health({ advertiser, store, rotationError: () => this.rotation.error() });
    this.notifier = deps.notifier ?? new SdNotifier({ env: deps.env, log: log.child({ module: 'systemd' }) });
    this.watchdog = new Watchdog(this.notifier, this.health, watchdogIntervalMs(deps.env ?? process.env), log.child({ module: 'watchdog' }));
  }

  async start(): Promise<void> {
    const { store, events, advertiser, log, version } = this.deps;
    store.kv.set(KV.daemon, { pid: process.pid, startedAt: Date.now(), version });
    events.on('radio.state', this, (state) => {
      log.info({ state }, 'radio state');
      this.record({ state });
    });
    events.on('radio.applied', this, (e) => this.record({ onAir: e.payload ? e.payload.advertisingData.toString('hex') : null, appliedAt: e.at }));
    events.on('link.state', this, (link) => this.record({ link }));
    advertiser.on('state', this.radioState);
    advertiser.on('applied', this.radioApplied);
    this.drain.start();
    if (hostsGatt(advertiser)) advertiser.serveGatt(this.gatt);
    await advertiser.start();
    this.rotation.start();
    this.timetable.start();
    this.commands.start();
    this.link.start();
    this.heartbeat.start();
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), 6 * 3600 * 1000);
    const live = this.sessions.live();
    log.info({ sessionId: live?.id ?? null, outboxDepth: store.outbox.depth(), radio: this.deps.radioKind }, 'gateway started');
    await this.notifier.notify('READY=1', `STATUS=${live ? `advertising session ${live.id}` : 'no live session'}`);
    this.watchdog.start();
  }

  async stop(): Promise<void> {
    const { advertiser, log } = this.deps;
    await this.notifier.notify('STOPPING=1');
    this.watchdog.stop();
    this.heartbeat.stop();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.timetable.stop();
    this.rotation.stop();
    this.commands.stop();
    this.drain.stop();
    await this.link.stop();
    await advertiser.stop();
    if (hostsGatt(advertiser)) advertiser.serveGatt(null);
    advertiser.off('state', this.radioState);
    advertiser.off('applied', this.radioApplied);
    this.deps.events.off(this);
    this.record({ state: 'stopped', onAir: null, link: 'stopped' });
    const record = this.deps.store.kv.get<Record<string, unknown>>(KV.daemon) ?? {};
    this.deps.store.kv.set(KV.daemon, { ...record, stoppedAt: Date.now() });
    log.info('gateway stopped');
  }

  /** Also from a timer: a failing prune is logged and tried again in six hours. */
  private prune(): void {
    guarded(this.deps.log, 'prune', 'prune failed', () => {
      const removed = this.deps.store.prune(Date.now());
      if (removed.advertisedWindows + removed.commands > 0) this.deps.log.info(removed, 'pruned old history');
    });
  }

  private record(patch: Partial<GatewayStatusSnapshot>): void {
    Object.assign(this.snapshot, patch);
    this.deps.store.kv.set(KV.status, this.snapshot);
  }
}
