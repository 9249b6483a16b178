/**
 * The `heartbeat` event (docs/protocol.md §MQTT): the cloud's view of each room's health and clock. It
 * describes the present, so a new one replaces any older heartbeat still unsent in the outbox
 * (a week offline queues one heartbeat, not ten thousand).
 */
import type { Logger } from 'pino';
import type { EventData } from '../shared/mqtt/messages.js';
import type { GatewayEvents } from './events.js';
import type { RuntimeConfig } from './runtime-config.js';
import type { GatewayStore } from './store/store.js';

export interface HeartbeatDeps {
  store: GatewayStore;
  events: GatewayEvents;
  runtime: RuntimeConfig;
  radioState: () => string;
  sessionId: () => string | null;
  version: string;
  log: Logger;
  now?: () => number;
  uptimeS?: () => number;
}

export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private intervalS = 0;

  constructor(private readonly deps: HeartbeatDeps) {}

  start(): void {
    this.deps.events.on('config.changed', this, () => this.reschedule());
    this.reschedule();
    this.beat();
  }

  /** Re-reads the interval (after config.set); keeps the timer when it did not change. */
  reschedule(): void {
    const s = this.deps.runtime.get().heartbeatS;
    if (this.timer && s === this.intervalS) return;
    this.cancel();
    this.intervalS = s;
    this.timer = setInterval(() => this.beat(), s * 1000);
  }

  stop(): void {
    this.deps.events.off(this);
    this.cancel();
  }

  private cancel(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  beat(): void {
    const { store, log } = this.deps;
    try {
      const now = (this.deps.now ?? Date.now)();
      store.transaction(() => {
        store.outbox.dropUnsent('heartbeat');
        store.outbox.append('heartbeat', this.data(now), now);
      });
    } catch (err) {
      log.error({ err }, 'could not queue a heartbeat');
    }
  }

  data(now: number): EventData<'heartbeat'> {
    return {
      uptime_s: Math.round((this.deps.uptimeS ?? process.uptime)()),
      clock: new Date(now).toISOString(),
      radio: this.deps.radioState().slice(0, 32),
      outbox_depth: this.deps.store.outbox.depth(),
      memory_rss: process.memoryUsage.rss(),
      version: this.deps.version,
      session_id: this.deps.sessionId(),
    };
  }
}
