/**
 * The MQTT side of the cloud (docs/operations.md): the embedded aedes broker unless MQTT_URL names
 * an external one, the cloud's own client (its own credentials: generated per start for the
 * embedded broker, MQTT_USERNAME/MQTT_PASSWORD for an external one), the event ingest and the
 * command hub. Built once by the composition root (cloud/main.ts); the hub lives as long as the
 * bridge, while broker and link can be stopped and started again (a broker restart) beneath it.
 *
 * A gateway's PUBACK means its event is committed. Events go through one ingest queue (group
 * commit across gateways) either way. With the embedded broker the broker hands each event to the
 * queue and acknowledges it once its batch committed; the cloud's client then hears only the
 * statuses. With an external broker the client takes the events over several connections to the
 * shared subscription (cloud/bridge/link.ts), pushes them to the queue, and acknowledges each one
 * after its batch committed, so the broker keeps it until then.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createBridgeMetrics, type BridgeMetrics } from './metrics.js';
import type { MqttConfig } from '../config.js';
import type { CloudEvents } from '../events.js';
import type { VerifiedLookup } from '../store/attendance.js';
import type { Store } from '../store/db.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded.js';
import { GatewayHub } from './hub.js';
import { EventIngest, type IngestOutcome } from './ingest.js';
import { IngestQueue } from './ingest-queue.js';
import { CloudMqttLink } from './link.js';

/** How long a clean stop waits for queued events to commit; what is left is not acknowledged. */
const STOP_COMMIT_GRACE_MS = 10_000;
/**
 * External broker: connections taking events, so up to this many of them commit in one transaction
 * (mqtt.js holds one event per connection until its PUBACK; bench/README.md, "Ingest").
 */
const EXTERNAL_EVENT_CONNECTIONS = 8;

export interface BridgeDeps {
  store: Store;
  events: CloudEvents;
  verifiedLookup: VerifiedLookup;
  clock: () => number;
  logger: Logger;
  timezone: string;
  /** The app's Prometheus registry: the bridge adds its metrics there. */
  registry?: Registry;
}

interface Transport {
  broker: EmbeddedBroker | null;
  link: CloudMqttLink;
  queue: IngestQueue;
  brokerUrl: string;
}

export class MqttBridge {
  /** The room gateways' commands and confirmations (AppDeps.gateways): one for the bridge's life. */
  readonly hub: GatewayHub;
  readonly ingest: EventIngest;
  private transport: Transport | null = null;
  private readonly listeners = new Set<(o: IngestOutcome) => void>();
  private readonly metrics: BridgeMetrics;
  private readonly log: Logger;
  /** The embedded broker's port: the configured one, then the one it got (gateways were told it). */
  private port: number;

  constructor(private readonly mqtt: MqttConfig, private readonly deps: BridgeDeps) {
    this.log = deps.logger;
    this.port = mqtt.port;
    this.metrics = createBridgeMetrics(deps.registry, () => this.transport?.broker?.connectedClients() ?? 0, () => this.transport?.link.connected ?? false);
    const transport = () => this.transport;
    this.hub = new GatewayHub({
      store: deps.store, clock: deps.clock, logger: this.log.child({ module: 'gateways' }), topicPrefix: mqtt.topicPrefix, timezone: deps.timezone,
      publisher: {
        get connected(): boolean {
          return transport()?.link.connected ?? false;
        },
        publish: (topic, payload) => this.link.publish(topic, payload),
      },
      disconnect: (id) => this.transport?.broker?.disconnectGateway(id) ?? false,
      publicMqttUrl: (requestHost) => mqtt.publicUrl ?? mqtt.url ?? `${mqtt.tls ? 'mqtts' : 'mqtt'}://${requestHost}:${this.port}`,
      ackTimeoutMs: mqtt.ackTimeoutMs,
      onPublished: (type) => this.metrics.commands.inc({ type }),
      events: deps.events,
    });
    this.ingest = new EventIngest({
      store: deps.store, events: deps.events, verifiedLookup: deps.verifiedLookup, clock: deps.clock, logger: this.log.child({ module: 'ingest' }),
      timezone: deps.timezone, startToleranceMs: mqtt.gatewayStartToleranceMs,
    });
  }

  get link(): CloudMqttLink {
    if (!this.transport) throw new Error('the MQTT bridge is not started');
    return this.transport.link;
  }

  get broker(): EmbeddedBroker | null {
    return this.transport?.broker ?? null;
  }

  /** The URL the cloud's client connects to. */
  get brokerUrl(): string {
    return this.transport?.brokerUrl ?? this.mqtt.url ?? '';
  }

  /** Calls `fn` with the outcome of every event the link delivered (tests, benchmarks). */
  onIngested(fn: (o: IngestOutcome) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async start(): Promise<void> {
    if (this.transport) return;
    const { mqtt, deps, log } = this;
    let broker: EmbeddedBroker | null = null;
    const report = (o: IngestOutcome) => {
      this.metrics.events.inc({ type: o.result === 'rejected' ? 'unknown' : o.type, result: o.result === 'rejected' ? o.code : o.result });
      for (const fn of this.listeners) fn(o);
    };
    let credentials = { username: mqtt.username, password: mqtt.password };
    const queue = new IngestQueue(this.ingest, log.child({ module: 'ingest' }), report, () => deps.store.probeWrite(deps.clock()), deps.clock);
    if (!mqtt.url) {
      // A broker that is just starting has no gateway connected: whatever the table says from
      // before a restart is stale (retained statuses lived in the old broker's memory).
      // Reconnecting gateways publish `online` again.
      await deps.store.gateways.markAllOffline(deps.clock());
      const cloud = { username: `cloud-${randomBytes(6).toString('hex')}`, password: randomBytes(32).toString('base64url') };
      credentials = cloud;
      broker = await startEmbeddedBroker({
        port: this.port, host: mqtt.host, topicPrefix: mqtt.topicPrefix, cloud, ...(mqtt.tls ? { tls: mqtt.tls } : {}), logger: log.child({ module: 'broker' }),
        limits: mqtt.limits, onLimit: (reason) => this.metrics.brokerLimits.inc({ reason }),
        onGatewayEvent: (gatewayId, payload) => queue.push({ gatewayId, payload }),
        lookupGateway: async (id) => {
          const g = await deps.store.gateways.get(id);
          return g ? { secretHash: g.secret_hash, revoked: g.revoked_at !== null } : null;
        },
      });
      this.port = broker.port;
    }
    const brokerUrl = mqtt.url ?? broker!.url;
    const link = new CloudMqttLink({
      url: brokerUrl, username: credentials.username, password: credentials.password, clientId: mqtt.clientId, topicPrefix: mqtt.topicPrefix,
      ...(broker && mqtt.tls ? { ca: mqtt.tls.cert, loopbackTls: true } : mqtt.ca ? { ca: mqtt.ca } : {}), logger: log.child({ module: 'mqtt' }),
      // The embedded broker gives the events to the queue itself; an external one delivers them here.
      ...(broker ? {} : { onEvent: (gatewayId: string, payload: Buffer) => queue.push({ gatewayId, payload }), eventConnections: EXTERNAL_EVENT_CONNECTIONS }),
      onStatus: (gatewayId, payload) => this.hub.onStatus(gatewayId, payload),
    });
    link.on('connect', () => void this.hub.flushAll().catch((err: unknown) => log.error({ err }, 'flushing pending commands failed')));
    this.transport = { broker, link, queue, brokerUrl };
    try {
      await link.start(broker ? 15_000 : 5_000);
    } catch (err) {
      if (broker) {
        // Our own broker over loopback: not reaching it is a bug or a resource problem, not weather.
        await this.stop();
        throw err;
      }
      // An external broker that is down must not take the API down with it: students keep
      // submitting over HTTP, commands queue in the database, and the link keeps reconnecting.
      log.error({ err: (err as Error).message, url: brokerUrl }, 'external MQTT broker unreachable at start; running without it until it answers');
    }
  }

  async stop(): Promise<void> {
    const t = this.transport;
    if (!t) return;
    this.transport = null;
    this.hub.stop();
    await t.link.stop();
    // Commit what the broker handed over, so its PUBACKs go out; later events are refused unacknowledged.
    await t.queue.close(STOP_COMMIT_GRACE_MS);
    await new Promise((resolve) => setImmediate(resolve)); // the PUBACKs are written before the sockets close
    await t.broker?.close();
  }
}
