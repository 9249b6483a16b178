/**
 * The embedded MQTT broker (aedes, MQTT 3.1.1) started by the cloud when no MQTT_URL is set
 * (docs/operations.md). Authentication and topic access are injected as plain functions (aedes style):
 *
 *  - CONNECT: username = gateway id, password = gateway secret checked against the stored hash;
 *    the client id must be `gw-<username>` so one gateway cannot take over another's session.
 *    Refusals use the CONNACK return codes of MQTT 3.1.1 §3.2.2.3 (2 identifier rejected,
 *    4 bad user name or password, 5 not authorized).
 *  - Every TCP connection passes limits.ts (connection caps, packet sizes, CONNECT deadline) before
 *    aedes reads from it.
 *  - PUBLISH / SUBSCRIBE: acl.ts. A refused PUBLISH closes the connection (3.1.1 has no negative
 *    PUBACK, MQTT-3.3.5-2); an ignored one is acknowledged and passed on empty; a refused
 *    SUBSCRIBE is granted 0x80 (failure, §3.9.3).
 *  - Payloads over MAX_PAYLOAD_BYTES are refused like an unauthorized PUBLISH.
 *  - A gateway's PUBLISH to its own `events` goes to `onGatewayEvent` (the cloud's ingest queue)
 *    from authorizePublish, and aedes sends the PUBACK only once that resolved: a gateway's event
 *    is acknowledged after its commit, never before (docs/protocol.md §Delivery). The cloud's own
 *    client therefore does not subscribe to the events.
 *
 * Sessions use aedes' in-memory persistence: clean:false sessions and their QoS 1 queues survive
 * a gateway's reconnects, not a cloud restart. The cloud's command table covers that case.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { MAX_PAYLOAD_BYTES, gatewayClientId, isValidGatewayId, parseGatewayTopic } from '../../shared/mqtt/topics.js';
import { maySubscribe, rulePublish, type Identity } from './acl.js';
import { hashSecret } from '../auth/secrets.js';
import { secretMatches } from './credentials.js';
import { ConnectionGuard, type LimitReason, type MqttLimits } from './limits.js';

/** What the broker needs to know about a gateway to let it in. */
export interface GatewayCredentialRecord {
  secretHash: string | null;
  revoked: boolean;
}

export interface EmbeddedBrokerOptions {
  port: number;
  host: string;
  topicPrefix: string;
  /** The cloud's own client: username and an in-memory password generated at start. */
  cloud: { username: string; password: string };
  lookupGateway: (gatewayId: string) => Promise<GatewayCredentialRecord | null>;
  /**
   * Takes a gateway's event (a PUBLISH to its own `events`, after the topic and size checks) and
   * resolves once it is committed. The PUBACK waits for it; a rejection closes the connection
   * unacknowledged, so the gateway sends the event again.
   */
  onGatewayEvent?: (gatewayId: string, payload: Buffer) => Promise<unknown>;
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer };
  /** Packet sizes, CONNECT deadline and connection caps (limits.ts). */
  limits: MqttLimits;
  /** Called for each connection closed over a limit. */
  onLimit?: (reason: LimitReason) => void;
  logger: Logger;
}

export interface EmbeddedBroker {
  port: number;
  /** Loopback URL for the cloud's own client. */
  url: string;
  /** Closes a gateway's live connection (after its credentials were revoked). */
  disconnectGateway(gatewayId: string): boolean;
  connectedClients(): number;
  close(): Promise<void>;
}

const CONNACK = { IDENTIFIER_REJECTED: 2, BAD_USERNAME_OR_PASSWORD: 4, NOT_AUTHORIZED: 5 } as const;

function refusal(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const log = opts.logger;
  const identities = new WeakMap<Client, Identity>();
  const guard = new ConnectionGuard({ limits: opts.limits, logger: log, ...(opts.onLimit ? { onRefused: opts.onLimit } : {}) });
  // Compared through its hash so the cloud password also gets a constant-time comparison.
  const hashOfCloud = hashSecret(opts.cloud.password);

  async function authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<Identity> {
    if (username === opts.cloud.username) {
      if (!client.id.startsWith('cloud-')) throw refusal(CONNACK.IDENTIFIER_REJECTED, 'cloud client id must start with cloud-');
      const ok = password !== undefined && secretMatches(password, hashOfCloud);
      if (!ok) throw refusal(CONNACK.BAD_USERNAME_OR_PASSWORD, 'bad cloud credentials');
      return { kind: 'cloud' };
    }
    if (!username || !isValidGatewayId(username)) throw refusal(CONNACK.BAD_USERNAME_OR_PASSWORD, 'unknown user');
    if (client.id !== gatewayClientId(username)) throw refusal(CONNACK.IDENTIFIER_REJECTED, 'client id must be gw-<gateway id>');
    const record = await opts.lookupGateway(username);
    if (!record || !secretMatches(password, record.secretHash)) throw refusal(CONNACK.BAD_USERNAME_OR_PASSWORD, 'bad gateway credentials');
    if (record.revoked) throw refusal(CONNACK.NOT_AUTHORIZED, 'gateway credentials revoked');
    return { kind: 'gateway', gatewayId: username };
  }


  const broker = await Aedes.createBroker({
    // The 3.1.1 keepalive is the client's; the broker only needs a sane CONNECT deadline.
    // limits.ts closes a client that is not authenticated in time first, and says so in the log.
    connectTimeout: opts.limits.connectTimeoutMs,
    authenticate: (client, username, password, done) => {
      authenticate(client, username ?? undefined, password ?? undefined).then(
        (identity) => {
          identities.set(client, identity);
          guard.authenticated(client.conn);
          done(null, true);
        },
        (err: AuthenticateError) => {
          const returnCode = typeof err.returnCode === 'number' ? err.returnCode : CONNACK.NOT_AUTHORIZED;
          log.warn({ clientId: client.id.slice(0, 80), user: username?.slice(0, 64), returnCode, reason: err.message }, 'mqtt connect refused');
          done(refusal(returnCode, err.message), null);
        },
      );
    },
    authorizePublish: (client, packet, done) => {
      // The broker's own publishes (client null) are not subject to the rules.
      if (!client) return done(null);
      const who = identities.get(client);
      if (!who) return done(new Error('publish before authentication'));
      // A closed client's publish is its will: aedes publishes it when the connection is lost.
      const ruling = rulePublish(who, { topic: packet.topic, payload: packet.payload, retain: packet.retain, will: client.closed }, opts.topicPrefix);
      if (ruling.verdict === 'refuse') {
        log.warn({ clientId: client.id, topic: packet.topic.slice(0, 200), reason: ruling.reason }, 'mqtt publish refused');
        return done(new Error('publish not authorized'));
      }
      if (ruling.verdict === 'ignore') {
        // Acknowledged and passed on empty and unretained: an empty status is no news (GatewayHub.onStatus).
        log.debug({ clientId: client.id, reason: ruling.reason }, 'mqtt publish ignored');
        packet.payload = Buffer.alloc(0);
        packet.retain = false;
        return done(null);
      }
      if (packet.payload.length > MAX_PAYLOAD_BYTES) {
        log.warn({ clientId: client.id, bytes: packet.payload.length }, 'mqtt publish refused: payload too large');
        return done(new Error('payload too large'));
      }
      // aedes writes a QoS 1 PUBACK only after done(): for events, after their commit.
      const onEvent = opts.onGatewayEvent;
      if (onEvent && who.kind === 'gateway' && parseGatewayTopic(packet.topic, opts.topicPrefix)?.kind === 'events') {
        onEvent(who.gatewayId, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)).then(() => done(null), (err: Error) => done(err));
        return;
      }
      done(null);
    },
    authorizeSubscribe: (client, sub, done) => {
      const who = identities.get(client);
      if (!who || !maySubscribe(who, sub.topic, opts.topicPrefix)) {
        log.warn({ clientId: client.id, topic: sub.topic.slice(0, 200) }, 'mqtt subscribe refused: topic not allowed');
        return done(null, null); // SUBACK 0x80 for this filter (MQTT 3.1.1 §3.9.3)
      }
      done(null, sub);
    },
  });
  broker.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
  broker.on('connectionError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error'));

  const sockets = new Set<net.Socket>();
  // TLS is layered over each admitted TCP socket here rather than by a tls.Server, so that the
  // limits also hold for connections that never finish their handshake.
  const secureContext = opts.tls ? tls.createSecureContext({ cert: opts.tls.cert, key: opts.tls.key, ...(opts.tls.ca ? { ca: opts.tls.ca } : {}) }) : null;
  const server = net.createServer((socket) => {
    const admission = guard.admit(socket);
    if (!admission) return;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const conn = secureContext ? new tls.TLSSocket(socket, { isServer: true, secureContext }) : socket;
    broker.handle(conn);
    admission.watch(conn);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const loopback = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  const url = `${opts.tls ? 'mqtts' : 'mqtt'}://${loopback}:${port}`;
  log.info({ port, tls: Boolean(opts.tls) }, 'embedded mqtt broker listening');

  const clients = (broker as unknown as { clients: Record<string, Client | undefined> }).clients;
  return {
    port,
    url,
    disconnectGateway(gatewayId) {
      const client = clients[gatewayClientId(gatewayId)];
      if (!client) return false;
      client.close();
      return true;
    },
    connectedClients: () => broker.connectedClients,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await closed;
    },
  };
}
