/**
 * The gateway's MQTT connection (docs/protocol.md §MQTT): client id gw-<id>, clean session false, retained
 * status online with last will offline, QoS 1, own cmd topic only, reconnect with exponential
 * backoff. The outbox drain publishes; this file owns the connection and its life cycle.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Backoff } from '../../shared/backoff.js';
import { guarded } from '../../shared/guarded.js';
import { MAX_PAYLOAD_BYTES, gatewayClientId, gatewayTopics, type GatewayTopics } from '../../shared/mqtt/topics.js';
import type { GatewayEvents } from '../events.js';
import type { OutboxDrain } from './drain.js';

export interface LinkOptions {
  url: string;
  gatewayId: string;
  topicPrefix: string;
  username: string;
  password: string | undefined;
  ca: Buffer | undefined;
  version: string;
  /** Whether this gateway serves the GATT check-in; said in its status, so the cloud knows the room can witness phones. */
  checkin?: boolean;
  /** First and largest delay between connection attempts. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  keepaliveS?: number;
}

export type LinkState = 'stopped' | 'connecting' | 'online' | 'offline';

/** Announces `link.state` and `command.received` on `events`. */
export interface LinkDeps {
  drain: OutboxDrain;
  events: GatewayEvents;
  log: Logger;
}

/** mqtt.js calls its handlers from socket callbacks, where a throw would crash the daemon. */
const HANDLER_FAILED = 'mqtt handler failed';

export class MqttLink {
  private client: MqttClient | null = null;
  private state: LinkState = 'stopped';
  private readonly backoff: Backoff;
  readonly topics: GatewayTopics;

  constructor(
    private readonly opts: LinkOptions,
    private readonly deps: LinkDeps,
  ) {
    this.topics = gatewayTopics(opts.gatewayId, opts.topicPrefix);
    // Jitter, so a building's gateways do not reconnect in lockstep after an outage.
    this.backoff = new Backoff({ minMs: opts.backoffMinMs ?? 1000, maxMs: opts.backoffMaxMs ?? 30_000, jitter: 0.25 });
  }

  linkState(): LinkState {
    return this.state;
  }

  start(): void {
    const { opts, deps } = this;
    const clientOpts: IClientOptions = {
      clientId: gatewayClientId(opts.gatewayId),
      clean: false,
      protocolVersion: 4,
      username: opts.username,
      password: opts.password,
      keepalive: opts.keepaliveS ?? 30,
      connectTimeout: 10_000,
      reconnectPeriod: opts.backoffMinMs ?? 1000,
      will: { topic: this.topics.status, payload: Buffer.from(this.statusPayload('offline')), qos: 1, retain: true },
      ...(opts.ca ? { ca: opts.ca } : {}),
    };
    this.setState('connecting');
    const client = connect(opts.url, clientOpts);
    this.client = client;
    deps.drain.reset();
    deps.drain.attach(client);
    client.on('connect', (connack) => guarded(deps.log, 'connect', HANDLER_FAILED, () => this.onConnect(client, connack.sessionPresent)));
    client.on('message', (topic, payload) =>
      guarded(deps.log, 'message', HANDLER_FAILED, () => {
        if (topic !== this.topics.cmd) return;
        if (payload.length > MAX_PAYLOAD_BYTES) {
          deps.log.warn({ bytes: payload.length }, 'command rejected: payload too large');
          return;
        }
        deps.events.emit('command.received', payload);
      }),
    );
    client.on('close', () => guarded(deps.log, 'close', HANDLER_FAILED, () => this.onClose()));
    // mqtt.js reports refused CONNACKs and socket errors here, then reconnects by itself.
    client.on('error', (err) => deps.log.warn({ err: err.message, code: (err as { code?: unknown }).code }, 'mqtt error'));
  }

  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = null;
    this.setState('stopped');
    if (client.connected) {
      // A clean shutdown says offline itself (the will only fires on an unclean disconnect).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        client.publish(this.topics.status, this.statusPayload('offline'), { qos: 1, retain: true }, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }

  private onConnect(client: MqttClient, sessionPresent: boolean): void {
    this.backoff.reset();
    client.options.reconnectPeriod = this.opts.backoffMinMs ?? 1000;
    this.setState('online');
    this.deps.log.info({ url: redactUrl(this.opts.url), sessionPresent }, 'mqtt connected');
    client.publish(this.topics.status, this.statusPayload('online'), { qos: 1, retain: true });
    // With clean session false the broker normally still has the subscription; subscribing again
    // costs one packet and covers a broker that lost its session store.
    client.subscribe(this.topics.cmd, { qos: 1 }, (err) => {
      if (err) this.deps.log.error({ err: err.message }, 'mqtt subscribe failed');
    });
    this.deps.drain.pump();
  }

  private onClose(): void {
    if (this.state === 'stopped' || !this.client) return;
    const delay = this.backoff.next();
    this.client.options.reconnectPeriod = delay;
    if (this.state !== 'offline') this.deps.log.warn({ retryInMs: delay }, 'mqtt disconnected; outbox keeps queuing');
    this.setState('offline');
  }

  private statusPayload(state: 'online' | 'offline'): string {
    return JSON.stringify({ state, at: new Date().toISOString(), version: this.opts.version, checkin: this.opts.checkin === true });
  }

  private setState(state: LinkState): void {
    if (state === this.state) return;
    this.state = state;
    this.deps.events.emit('link.state', state);
  }

}

/** The broker URL without any credentials that someone put in it. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'redacted';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
