/**
 * The cloud with its MQTT side for the broker and ingest tests: the cloud test harness (real
 * database, real app) plus the real bridge — embedded aedes on a free loopback port, the cloud's
 * own mqtt client, ingest and hub. Gateways are plain `mqtt` clients over real sockets.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { expect } from 'vitest';
import { createCloudHarness, testClock, type CloudHarness } from '../helpers/cloud.js';
import { setupCourse, type CourseFixture } from '../helpers/fixtures.js';
import type { MqttBridge } from '../../cloud/bridge/start.js';
import type { Gateway } from '../../cloud/store/schema.js';
import { gatewayTopics, type GatewayTopics } from '../../shared/mqtt/topics.js';
import { uuidv7 } from '../../shared/ids.js';

export interface BrokerHarness {
  h: CloudHarness;
  topicPrefix: string;
  bridge: MqttBridge;
  /** Starts the bridge again on the same database (a cloud restart; the broker's memory is gone). */
  restartBridge(): Promise<void>;
  close(): Promise<void>;
}

export interface BrokerHarnessOptions {
  ackTimeoutMs?: number;
  tls?: { cert: Buffer; key: Buffer };
  /** An external broker (MQTT_URL) instead of the embedded one, with its own topic prefix. */
  external?: { url: string; topicPrefix: string; clientId: string };
  /** Logger of the MQTT side (default: the harness's silent one). */
  logger?: Logger;
  /** More settings, as the environment would give them (e.g. the broker's limits). */
  env?: Record<string, string>;
}

export async function startBrokerHarness(opts: BrokerHarnessOptions = {}): Promise<BrokerHarness> {
  const topicPrefix = opts.external?.topicPrefix ?? 'att/v1';
  const h = await createCloudHarness({
    clock: testClock(Date.now()),
    ...(opts.logger ? { logger: opts.logger } : {}),
    env: {
      MQTT_DISABLED: 'false', MQTT_PORT: '0', MQTT_HOST: '127.0.0.1', MQTT_TOPIC_PREFIX: topicPrefix,
      MQTT_CLIENT_ID: opts.external?.clientId ?? 'cloud-test', MQTT_ACK_TIMEOUT_MS: String(opts.ackTimeoutMs ?? 1500),
      ...(opts.external ? { MQTT_URL: opts.external.url } : {}),
      ...opts.env,
    },
    configure: (c) => (opts.tls ? { ...c, mqtt: { ...c.mqtt, tls: opts.tls } } : c),
  });
  const bridge = h.cloud.bridge!;
  return {
    h,
    topicPrefix,
    bridge,
    async restartBridge() {
      await bridge.stop();
      await bridge.start();
    },
    close: () => h.close(),
  };
}

export interface ProvisionedGateway {
  gatewayId: string;
  password: string;
  roomSecret: string;
  topics: GatewayTopics;
}

export async function provision(b: BrokerHarness, f: CourseFixture, roomId = f.roomId): Promise<ProvisionedGateway> {
  const res = await b.h.http().post(`/api/v1/admin/rooms/${roomId}/gateways`).set(f.admin.auth).send({ mode: 'credentials' });
  expect(res.status).toBe(201);
  const c = res.body.credentials.config;
  return { gatewayId: c.gateway_id, password: c.mqtt_password, roomSecret: c.room_secret, topics: gatewayTopics(c.gateway_id, b.topicPrefix) };
}

export function connectGateway(b: Pick<BrokerHarness, 'bridge'>, g: Pick<ProvisionedGateway, 'gatewayId' | 'password'>, extra: Partial<IClientOptions> = {}): MqttClient {
  return connect(b.bridge.brokerUrl, {
    clientId: `gw-${g.gatewayId}`, username: g.gatewayId, password: g.password, clean: false, protocolVersion: 4, reconnectPeriod: 0, ...extra,
  });
}

/** Resolves with the CONNACK error (its return code) or 'connected'. */
export function connectOutcome(client: MqttClient): Promise<'connected' | { code: number | undefined }> {
  return new Promise((resolve) => {
    client.once('connect', () => resolve('connected'));
    client.once('error', (err) => resolve({ code: (err as { code?: number }).code }));
  });
}

export function envelope(type: string, data: unknown, id = uuidv7()): string {
  return JSON.stringify({ id, type, at: new Date().toISOString(), data });
}

export async function gatewayRow(b: BrokerHarness, id: string): Promise<Gateway> {
  return b.h.store.db.selectFrom('gateways').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export { eventually } from '../helpers/eventually.js';

export { setupCourse };
