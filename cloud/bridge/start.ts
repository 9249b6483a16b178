/**
 * Starts the MQTT side of the cloud (docs/operations.md): the embedded aedes broker unless MQTT_URL names
 * an external one, the cloud's own client (its own credentials: generated per start for the
 * embedded broker, MQTT_USERNAME/MQTT_PASSWORD for an external one), the event ingest and the
 * command hub. Called by the composition root (cloud/main.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createBridgeMetrics } from './metrics.js';
import type { CloudConfig } from '../config.js';
import type { CloudEvents } from '../events.js';
import type { VerifiedLookup } from '../store/attendance.js';
import type { Database } from '../store/schema.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded.js';
import { getGateway } from './gateway-store.js';
import { BridgeHub } from './hub.js';
import { EventIngest, type IngestOutcome } from './ingest.js';
import { IngestQueue } from './ingest-queue.js';
import { CloudMqttLink } from './link.js';
import type { BridgeOptions } from './options.js';
import { gatewayDb } from './tables.js';

export interface BridgeDeps {
  db: Kysely<Database>;
  events: CloudEvents;
  verifiedLookup: VerifiedLookup;
  clock: () => number;
  logger: Logger;
  timezone: string;
  /** The app's Prometheus registry: the bridge adds its metrics there. */
  registry?: Registry;
}

export interface RunningBridge {
  hub: BridgeHub;
  ingest: EventIngest;
  /** Calls `fn` with the outcome of every event the link delivered (tests, benchmarks). */
  onIngested(fn: (o: IngestOutcome) => void): () => void;
  link: CloudMqttLink;
  broker: EmbeddedBroker | null;
  /** The URL the cloud's client connects to. */
  brokerUrl: string;
  stop(): Promise<void>;
}

export async function startBridge(mqtt: CloudConfig['mqtt'], options: BridgeOptions, deps: BridgeDeps): Promise<RunningBridge> {
  const log = deps.logger;
  const db = gatewayDb(deps.db);
  let broker: EmbeddedBroker | null = null;
  let credentials = { username: mqtt.username, password: mqtt.password };
  if (!mqtt.url) {
    // A broker that is just starting has no gateway connected: whatever the table says from before
    // a restart is stale (retained statuses lived in the old broker's memory). Reconnecting
    // gateways publish `online` again.
    await db.updateTable('gateways').set({ state: 'offline', state_at: deps.clock(), online_since: null }).where('state', '=', 'online').execute();
    const cloud = { username: `cloud-${randomBytes(6).toString('hex')}`, password: randomBytes(32).toString('base64url') };
    credentials = cloud;
    broker = await startEmbeddedBroker({
      port: mqtt.port, host: mqtt.host, topicPrefix: mqtt.topicPrefix, cloud, ...(options.tls ? { tls: options.tls } : {}), logger: log.child({ module: 'broker' }),
      lookupGateway: async (id) => {
        const g = await getGateway(db, id);
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
  const hub: BridgeHub = new BridgeHub({
    db: deps.db, events: deps.events, clock: deps.clock, logger: log.child({ module: 'gateways' }), topicPrefix: mqtt.topicPrefix, timezone: deps.timezone,
    publisher: { get connected(): boolean { return link.connected; }, publish: (topic, payload) => link.publish(topic, payload) },
    disconnect: (id) => broker?.disconnectGateway(id) ?? false,
    publicMqttUrl: (requestHost) => options.publicUrl ?? mqtt.url ?? `${options.tls ? 'mqtts' : 'mqtt'}://${requestHost}:${broker!.port}`,
    ackTimeoutMs: options.ackTimeoutMs,
    onPublished: (type) => metrics.commands.inc({ type }),
  });
  const ingest = new EventIngest({
    db: deps.db, events: deps.events, verifiedLookup: deps.verifiedLookup, clock: deps.clock, logger: log.child({ module: 'ingest' }),
    onCommandResult: (cmd) => hub.onCommandResult(cmd),
    onSessionEndedByGateway: (id) => hub.sessionEndedByGateway(id),
  });
  const queue = broker ? new IngestQueue(ingest, log.child({ module: 'ingest' }), report) : null;
  // Referenced by the hub's publisher above only when it publishes, after this line ran.
  const link: CloudMqttLink = new CloudMqttLink({
    url: brokerUrl, username: credentials.username, password: credentials.password, clientId: options.clientId, topicPrefix: mqtt.topicPrefix,
    sharedSubscription: Boolean(mqtt.url),
    ...(broker && options.tls ? { ca: options.tls.cert, loopbackTls: true } : options.ca ? { ca: options.ca } : {}), logger: log.child({ module: 'mqtt' }),
    // Embedded broker: hand over at once and commit in batches (ingest-queue.ts says why).
    // External broker: acknowledge each event only after its commit.
    onEvent: async (gatewayId, payload) => {
      if (queue) return queue.push({ gatewayId, payload });
      report(await ingest.handle(gatewayId, payload));
    },
    onStatus: (gatewayId, payload) => hub.onStatus(gatewayId, payload),
  });
  hub.start();
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
