/**
 * Publishes the outbox in seq order with QoS 1 and deletes each row on its PUBACK (docs/gateway.md).
 *
 * Up to `maxInFlight` messages are in flight at once, for throughput over a slow link; order still
 * holds because a broker must acknowledge QoS 1 PUBLISHes in the order received (MQTT 3.1.1
 * §4.6). With clean session false, mqtt.js keeps unacknowledged PUBLISHes across a reconnect and
 * resends them first, before it emits 'connect', so the cursor simply continues afterwards. After
 * a publish error (the client was closed) the cursor rewinds to the oldest unacknowledged row:
 * at-least-once, and the cloud drops repeats by envelope id.
 */
import type { Logger } from 'pino';
import type { MqttClient } from 'mqtt';
import type { GatewayEvents } from '../events.js';
import { KV } from '../store/kv.js';
import type { GatewayStore } from '../store/store.js';

export interface DrainDeps {
  store: GatewayStore;
  events: GatewayEvents;
  log: Logger;
  maxInFlight?: number;
  now?: () => number;
}

export class OutboxDrain {
  private client: MqttClient | null = null;
  /** Highest seq handed to the client. Rows at or below it are in flight or acknowledged. */
  private cursor = 0;
  private readonly inFlight = new Set<number>();
  private pumping = false;
  private delivered = 0;
  private lastSyncPersistedAt = 0;
  private readonly maxInFlight: number;
  private readonly now: () => number;

  constructor(private readonly deps: DrainDeps) {
    this.maxInFlight = deps.maxInFlight ?? 64;
    this.now = deps.now ?? Date.now;
  }

  /** Publishes whenever a commit appended to the outbox (`outbox.appended`), until stop(). */
  start(): void {
    this.deps.events.on('outbox.appended', this, () => this.pump());
  }

  stop(): void {
    this.deps.events.off(this);
  }

  attach(client: MqttClient): void {
    this.client = client;
  }

  /** Messages acknowledged since start (for logs and the bench). */
  deliveredCount(): number {
    return this.delivered;
  }

  /** Publishes as much as maxInFlight allows. Cheap to call often: every append and every ack calls it. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const client = this.client;
      while (client?.connected && this.inFlight.size < this.maxInFlight) {
        const batch = this.deps.store.outbox.after(this.cursor, this.maxInFlight - this.inFlight.size);
        if (batch.length === 0) break;
        for (const msg of batch) {
          this.cursor = msg.seq;
          this.inFlight.add(msg.seq);
          client.publish(msg.topic, msg.payload, { qos: 1 }, (err) => this.settled(msg.seq, err));
        }
      }
    } catch (err) {
      this.deps.log.error({ err }, 'outbox drain failed; retrying on the next event');
    } finally {
      this.pumping = false;
    }
  }

  private settled(seq: number, err: Error | undefined): void {
    this.inFlight.delete(seq);
    if (err) {
      // Rewind so that this row (and any later one) goes again, in order, once connected.
      this.cursor = Math.min(this.cursor, seq - 1);
      this.deps.log.debug({ seq, err: err.message }, 'publish not acknowledged; will resend');
      return;
    }
    try {
      const now = this.now();
      this.deps.store.outbox.delete(seq);
      this.delivered++;
      // "Last successful sync" for `status`: when caught up, else at most once a second.
      if (now - this.lastSyncPersistedAt >= 1000 || this.inFlight.size === 0) {
        this.deps.store.kv.set(KV.lastSyncAt, now);
        this.lastSyncPersistedAt = now;
      }
    } catch (err) {
      this.deps.log.error({ err, seq }, 'could not delete an acknowledged outbox row; it will be sent again');
    }
    this.pump();
  }

  /** Forgets the cursor so that everything still in the outbox is sent again (new client). */
  reset(): void {
    this.cursor = 0;
    this.inFlight.clear();
  }
}
