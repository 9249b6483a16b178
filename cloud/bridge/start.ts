/**
 * Starts the MQTT side of the cloud (docs/operations.md): the embedded aedes broker unless MQTT_URL names
 * an external one, the cloud's own client (its own credentials: generated per start for the
 * embedded broker, MQTT_USERNAME/MQTT_PASSWORD for an external one), the event ingest and the
 * command hub. Called by the composition root (cloud/main.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createBridgeMetrics } from './metrics.js';
import type { MqttConfig } from '../config.js';
import type { CloudEvents } from '../events.js';
import type { VerifiedLookup } from '../store/attendance.js';
import type { Store } from '../store/db.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded.js';
import { GatewayHub } from './hub.js';
import { EventIngest, type IngestOutcome } from './ingest.js';
import { IngestQueue } from './ingest-queue.js';
import { CloudMqttLink } from './link.js';

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

export interface RunningBridge {
  hub: GatewayHub;
  ingest: EventIngest;
  /** Calls `fn` with the outcome of every event the link delivered (tests, benchmarks). */
  onIngested(fn: (o: IngestOutcome) => void): () => void;
  link: CloudMqttLink;
  broker: EmbeddedBroker | null;
  /** The URL the cloud's client connects to. */
  brokerUrl: string;
  stop(): Promise<void>;
}

export async function startBridge(mqtt: MqttConfig, deps: BridgeDeps): Promise<RunningBridge> {
  const log = deps.logger;
  const { store } = deps;
  let broker: EmbeddedBroker | null = null;
  let credentials = { username: mqtt.username, password: mqtt.password };
  if (!mqtt.url) {
    // A broker that is just starting has no gateway connected: whatever the table says from before
    // a restart is stale (retained statuses lived in the old broker's memory). Reconnecting
    // gateways publish `online` again.
    await store.gateways.markAllOffline(deps.clock());
    const cloud = { username: `cloud-${randomBytes(6).toString('hex')}`, password: randomBytes(32).toString('base64url') };
    credentials = cloud;
    broker = await startEmbeddedBroker({
      port: mqtt.port, host: mqtt.host, topicPrefix: mqtt.topicPrefix, cloud, ...(mqtt.tls ? { tls: mqtt.tls } : {}), logger: log.child({ module: 'broker' }),
      lookupGateway: async (id) => {
        const g = await store.gateways.get(id);
        return g ? { secretHash: g.secret_hash, revoked: g.revoked_at !== null } : null;
      },
    });
  }
  const brokerUrl = mqtt.url ?? broker!.url;

  const listeners = new Set<(o: IngestOutcome) => void>();
  const report = (o: IngestOutcome) => {
    metrics.events.inc({ type: o.result === 'rejected' ? 'unknown' : o.type, result: o.result === 'rejected' ? o.code : o.result });
    for (const fn of listeners) fn(o);
  };
  const metrics = createBridgeMetrics(deps.registry, () => broker?.connectedClients() ?? 0, () => link.connected);
  const hub: GatewayHub = new GatewayHub({
    store, clock: deps.clock, logger: log.child({ module: 'gateways' }), topicPrefix: mqtt.topicPrefix, timezone: deps.timezone,
    publisher: { get connected(): boolean { return link.connected; }, publish: (topic, payload) => link.publish(topic, payload) },
    disconnect: (id) => broker?.disconnectGateway(id) ?? false,
    publicMqttUrl: (requestHost) => mqtt.publicUrl ?? mqtt.url ?? `${mqtt.tls ? 'mqtts' : 'mqtt'}://${requestHost}:${broker!.port}`,
    ackTimeoutMs: mqtt.ackTimeoutMs,
    onPublished: (type) => metrics.commands.inc({ type }),
  });
  const ingest = new EventIngest({
    store, events: deps.events, verifiedLookup: deps.verifiedLookup, clock: deps.clock, logger: log.child({ module: 'ingest' }),
    onCommandResult: (cmd) => hub.onCommandResult(cmd),
  });
  const queue = broker ? new IngestQueue(ingest, log.child({ module: 'ingest' }), report) : null;
  // Referenced by the hub's publisher above only when it publishes, after this line ran.
  const link: CloudMqttLink = new CloudMqttLink({
    url: brokerUrl, username: credentials.username, password: credentials.password, clientId: mqtt.clientId, topicPrefix: mqtt.topicPrefix,
    sharedSubscription: Boolean(mqtt.url),
    ...(broker && mqtt.tls ? { ca: mqtt.tls.cert, loopbackTls: true } : mqtt.ca ? { ca: mqtt.ca } : {}), logger: log.child({ module: 'mqtt' }),
    // Embedded broker: hand over at once and commit in batches (ingest-queue.ts says why).
    // External broker: acknowledge each event only after its commit.
    onEvent: async (gatewayId, payload) => {
      if (queue) return queue.push({ gatewayId, payload });
      report(await ingest.handle(gatewayId, payload));
    },
    onStatus: (gatewayId, payload) => hub.onStatus(gatewayId, payload),
  });
  link.on('connect', () => void hub.flushAll().catch((err: unknown) => log.error({ err }, 'flushing pending commands failed')));
  try {
    await link.start(broker ? 15_000 : 5_000);
  } catch (err) {
    if (broker) {
      // Our own broker over loopback: not reaching it is a bug or a resource problem, not weather.
      hub.stop();
      await link.stop();
      await broker.close();
      throw err;
    }
    // An external broker that is down must not take the API down with it: students keep
    // submitting over HTTP, commands queue in the database, and the link keeps reconnecting.
    log.error({ err: (err as Error).message, url: brokerUrl }, 'external MQTT broker unreachable at start; running without it until it answers');
  }
  return {
    hub, ingest, link, broker, brokerUrl,
    onIngested(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async stop() {
      hub.stop();
      await link.stop();
      await queue?.idle(); // a clean stop commits what the embedded broker already acknowledged
      await broker?.close();
    },
  };
}
