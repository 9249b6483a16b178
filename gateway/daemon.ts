/**
 * The gateway daemon: composes store, radio, sessions, rotation, timetable, commands, MQTT link,
 * heartbeat and systemd watchdog. The constructor only wires objects; I/O starts in start() and
 * ends in stop(). Every cross-part listener is wrapped so that one failing part logs an error
 * instead of crashing the daemon (and with it the beacon of a whole classroom).
 */
import type { Logger } from 'pino';
import type { Advertiser, AdvertisingPayload, RadioState } from './ble/advertiser.js';
import { CommandProcessor } from './commands.js';
import type { GatewayConfig } from './config.js';
import { Health } from './health.js';
import { Heartbeat } from './heartbeat.js';
import { OutboxDrain } from './mqtt/drain.js';
import { MqttLink, type LinkState } from './mqtt/link.js';
import { OnAirEncoder } from './on-air.js';
import { Rotation } from './rotation.js';
import { RuntimeConfig } from './runtime-config.js';
import { SessionManager } from './sessions.js';
import { KV } from './store/kv.js';
import type { GatewayStore } from './store/store.js';
import { SdNotifier, watchdogIntervalMs } from './systemd/notify.js';
import { Watchdog } from './systemd/watchdog.js';
import { Timetable, type CronScheduler } from './timetable.js';

export interface DaemonDeps {
  config: GatewayConfig;
  store: GatewayStore;
  advertiser: Advertiser;
  log: Logger;
  version: string;
  radioKind: string;
  notifier?: SdNotifier;
  env?: NodeJS.ProcessEnv;
  cronScheduler?: CronScheduler;
  mqttBackoff?: { minMs: number; maxMs: number };
  drainWindow?: number;
}

/** What `status` reads back from kv: the radio as the daemon last saw it. */
export interface RadioSnapshot {
  kind: string;
  state: RadioState;
  onAir: string | null;
  appliedAt: number | null;
  link: LinkState;
}

export class GatewayDaemon {
  readonly sessions: SessionManager;
  readonly rotation: Rotation;
  readonly runtime: RuntimeConfig;
  readonly timetable: Timetable;
  readonly commands: CommandProcessor;
  readonly drain: OutboxDrain;
  readonly link: MqttLink;
  readonly heartbeat: Heartbeat;
  readonly health: Health;
  private readonly notifier: SdNotifier;
  private readonly watchdog: Watchdog;
  private readonly radio: RadioSnapshot;
  private unsubscribeOutbox: (() => void) | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: DaemonDeps) {
    const { config, store, advertiser, log } = deps;
    this.radio = { kind: deps.radioKind, state: 'unknown', onAir: null, appliedAt: null, link: 'stopped' };
    this.runtime = new RuntimeConfig(store, { heartbeatS: config.heartbeatS, defaultPeriodS: config.defaultPeriodS, idleFrame: config.idleFrame });
    this.sessions = new SessionManager({ store, roomCode: config.roomCode, log: log.child({ module: 'sessions' }) });
    this.rotation = new Rotation({
      store,
      sessions: this.sessions,
      advertiser,
      encoder: new OnAirEncoder(config),
      idleFrame: () => this.runtime.get().idleFrame,
      log: log.child({ module: 'rotation' }),
    });
    this.timetable = new Timetable({
      store,
      sessions: this.sessions,
      runtime: this.runtime,
      log: log.child({ module: 'timetable' }),
      ...(deps.cronScheduler ? { schedule: deps.cronScheduler } : {}),
    });
    this.commands = new CommandProcessor({ store, sessions: this.sessions, runtime: this.runtime, timetable: this.timetable, log: log.child({ module: 'commands' }) });
    this.drain = new OutboxDrain({ store, log: log.child({ module: 'outbox' }), ...(deps.drainWindow ? { window: deps.drainWindow } : {}) });
    this.link = new MqttLink(
      {
        url: config.mqtt.url,
        gatewayId: config.gatewayId,
        topicPrefix: config.mqtt.topicPrefix,
        username: config.mqtt.username,
        password: config.mqtt.password,
        ca: config.mqtt.ca,
        version: deps.version,
        backoffMinMs: deps.mqttBackoff?.minMs,
        backoffMaxMs: deps.mqttBackoff?.maxMs,
      },
      {
        drain: this.drain,
        onCommand: (payload) => this.commands.handle(payload),
        onState: (state) => this.safe('link state', () => this.recordRadio({ link: state })),
        log: log.child({ module: 'mqtt' }),
      },
    );
    this.heartbeat = new Heartbeat({
      store,
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
    const { store, advertiser, log, version } = this.deps;
    store.kv.set(KV.daemon, { pid: process.pid, startedAt: Date.now(), version });
    advertiser.on('state', (state: RadioState) =>
      this.safe('radio state', () => {
        log.info({ state }, 'radio state');
        this.recordRadio({ state });
      }),
    );
    advertiser.on('applied', (e: { payload: AdvertisingPayload | null; at: number }) =>
      this.safe('radio applied', () => this.recordRadio({ onAir: e.payload ? e.payload.advertisingData.toString('hex') : null, appliedAt: e.at })),
    );
    this.sessions.on('changed', () => this.safe('session changed', () => this.rotation.refresh('session')));
    this.runtime.on('changed', () =>
      this.safe('config changed', () => {
        this.heartbeat.reschedule();
        this.rotation.refresh('config');
      }),
    );
    this.unsubscribeOutbox = store.outbox.onAppend(() => this.drain.pump());
    await advertiser.start();
    this.rotation.start();
    this.timetable.start();
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
    this.unsubscribeOutbox?.();
    await this.link.stop();
    await advertiser.stop();
    this.recordRadio({ state: 'stopped', onAir: null, link: 'stopped' });
    const record = this.deps.store.kv.get<Record<string, unknown>>(KV.daemon) ?? {};
    this.deps.store.kv.set(KV.daemon, { ...record, stoppedAt: Date.now() });
    log.info('gateway stopped');
  }

  private prune(): void {
    this.safe('prune', () => {
      const removed = this.deps.store.prune(Date.now());
      if (removed.tokenLog + removed.commands > 0) this.deps.log.info(removed, 'pruned old history');
    });
  }

  private recordRadio(patch: Partial<RadioSnapshot>): void {
    Object.assign(this.radio, patch);
    this.deps.store.kv.set(KV.radio, this.radio);
  }

  private safe(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.deps.log.error({ err, what }, 'listener failed');
    }
  }
}
