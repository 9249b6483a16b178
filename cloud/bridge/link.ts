/**
 * The cloud's own MQTT client (the cloud always talks MQTT through an `mqtt` client,
 * to the embedded broker over loopback or to an external one). It subscribes to every gateway's
 * `status` and, when it is given `onEvent`, to their `events` (as a shared subscription on an
 * external broker, so several cloud instances split the ingest), and publishes commands with QoS 1.
 * With the embedded broker the events do not pass through here: the broker hands them to the
 * ingest itself, before it acknowledges them (cloud/broker/embedded.ts).
 *
 * A PUBLISH is acknowledged only after its handler finished (mqtt.js `handleMessage`). mqtt.js
 * handles one connection's packets strictly one at a time: it parses the next one only after the
 * previous handler called back and its PUBACK was written, so one connection never has two events
 * in hand and nothing could be committed together. Since the PUBACK must follow the commit, the
 * link opens `eventConnections` connections to the shared events subscription (the broker spreads
 * the events over them); each hands its event to the handler, which commits what several
 * connections hold in one transaction (cloud/bridge/ingest-queue.ts), and each PUBACK follows its
 * commit. If the database keeps failing, that connection is dropped so the broker redelivers the
 * unacknowledged message after the reconnect (MQTT 3.1.1 §4.4).
 */
import { EventEmitter } from 'node:events';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { parseGatewayTopic, sharedEventsSubscription, statusWildcard } from '../../shared/mqtt/topics.js';

export interface CloudLinkOptions {
  url: string;
  username: string | null;
  password: string | null;
  clientId: string;
  topicPrefix: string;
  ca?: Buffer;
  /** Our own embedded broker over loopback: its certificate is trusted without a name check. */
  loopbackTls?: boolean;
  logger: Logger;
  /**
   * Handles a gateway event (external broker): the link then subscribes to the events through
   * `$share/cloud/...`, so several cloud instances split them. Without it, no events subscription.
   */
  onEvent?: (gatewayId: string, payload: Buffer) => Promise<unknown>;
  /**
   * How many connections take events (with `onEvent`): the first one, which also hears the
   * statuses and publishes, plus `<clientId>-events-<n>` ones with persistent sessions of their own.
   */
  eventConnections?: number;
  onStatus: (gatewayId: string, payload: Buffer) => Promise<unknown>;
}

const HANDLER_ATTEMPTS = 3;

/** Events: 'connect' after each (re)connection with subscriptions in place, 'offline'. */
export class CloudMqttLink extends EventEmitter {
  private client: MqttClient | null = null;
  private readonly eventClients: MqttClient[] = [];
  private stopped = false;

  constructor(private readonly opts: CloudLinkOptions) {
    super();
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Connects; resolves at the first successful connection (later ones happen on their own). */
  start(timeoutMs = 15_000): Promise<void> {
    const o = this.opts;
    const main = this.open(o.clientId, [statusWildcard(o.topicPrefix), ...(o.onEvent ? [sharedEventsSubscription(o.topicPrefix)] : [])], () => this.emit('connect'));
    this.client = main;
    main.on('offline', () => {
      if (!this.stopped) o.logger.warn('cloud mqtt link offline; reconnecting');
      this.emit('offline');
    });
    if (o.onEvent) {
      for (let n = 1; n < (o.eventConnections ?? 1); n++) this.eventClients.push(this.open(`${o.clientId}-events-${n}`, [sharedEventsSubscription(o.topicPrefix)], () => undefined));
    }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`could not connect to the MQTT broker within ${timeoutMs} ms`)), timeoutMs);
      this.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Publishes with QoS 1; resolves on PUBACK. Rejects when not connected (the caller keeps it pending). */
  publish(topic: string, payload: string): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new Error('mqtt link not connected'));
    return new Promise<void>((resolve, reject) => client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const clients = [this.client, ...this.eventClients.splice(0)];
    this.client = null;
    // Forced: a message being handled is not acknowledged, so the broker sends it again later.
    await Promise.all(clients.map((c) => c && new Promise<void>((resolve) => c.end(true, {}, () => resolve()))));
  }

  /** One connection subscribing to `filters` (QoS 1); `onSubscribed` after each (re)connection. */
  private open(clientId: string, filters: string[], onSubscribed: () => void): MqttClient {
    const o = this.opts;
    const clientOpts: IClientOptions = {
      clientId,
      // A persistent session: with an external broker, events published while the cloud is
      // down wait for it in the broker (MQTT 3.1.1 §3.1.2.4).
      clean: false,
      protocolVersion: 4,
      keepalive: 30,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(o.username ? { username: o.username } : {}),
      ...(o.password ? { password: o.password } : {}),
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.loopbackTls ? { checkServerIdentity: () => undefined } : {}),
    };
    const client = connect(o.url, clientOpts);
    client.handleMessage = (packet, done) => {
      void this.dispatch(client, packet.topic, packet.payload as Buffer).then(() => done());
    };
    client.on('connect', () => {
      client.subscribe(Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }])), (err, granted) => {
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (err || refused.length) {
          o.logger.error({ err: err?.message, refused, clientId }, 'cloud mqtt subscription refused');
          return;
        }
        o.logger.info({ subscriptions: filters, clientId }, 'cloud mqtt link subscribed');
        onSubscribed();
      });
    });
    client.on('error', (err) => o.logger.warn({ err: err.message, clientId }, 'cloud mqtt link error'));
    return client;
  }

  private async dispatch(client: MqttClient, topic: string, payload: Buffer): Promise<void> {
    const t = parseGatewayTopic(topic, this.opts.topicPrefix);
    const handler = t?.kind === 'events' ? this.opts.onEvent : t?.kind === 'status' ? this.opts.onStatus : undefined;
    if (!t || !handler) {
      this.opts.logger.warn({ topic: topic.slice(0, 200) }, 'message on an unexpected topic ignored');
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await handler(t.gatewayId, payload);
        return;
      } catch (err) {
        this.opts.logger.error({ err, gatewayId: t.gatewayId, kind: t.kind, attempt }, 'handling a gateway message failed');
        if (attempt >= HANDLER_ATTEMPTS || this.stopped) {
          // Not acknowledged: the broker sends it again after the reconnect.
          client.stream.destroy();
          return new Promise<void>(() => undefined);
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }
}
