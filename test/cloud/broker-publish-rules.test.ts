/**
 * What a gateway may publish at the embedded broker beyond its topics (cloud/broker/acl.ts,
 * docs/protocol.md §MQTT): no retained events, and a status that tells the truth about the
 * connection — `offline` only in the will the broker publishes when the connection is lost. Real
 * aedes over real sockets; gateways as plain mqtt clients and as the gateway's own MQTT link.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { connectGateway, connectOutcome, envelope, eventually, gatewayRow, provision, setupCourse, startBrokerHarness, type BrokerHarness, type ProvisionedGateway } from './broker-harness.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { rulePublish } from '../../cloud/broker/acl.js';
import { createLogger } from '../../cloud/logger.js';
import { GatewayEvents } from '../../gateway/events.js';
import { MqttLink } from '../../gateway/mqtt/link.js';
import { OutboxDrain } from '../../gateway/mqtt/drain.js';
import { openStore } from '../../gateway/store/store.js';

let harness: BrokerHarness | null = null;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await harness?.close();
  harness = null;
});

const status = (state: 'online' | 'offline', version = 't') => JSON.stringify({ state, at: new Date().toISOString(), version });
/** Resolves true if the broker closes `client` within `ms`. */
const closesWithin = (client: MqttClient, ms: number) =>
  new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    client.once('close', () => (clearTimeout(timer), resolve(true)));
  });

async function classroom(logLevel: 'info' | 'warn' = 'warn') {
  const logs = memoryLogger(logLevel, createLogger);
  const b = (harness = await startBrokerHarness({ logger: logs.log }));
  const f = await setupCourse(b.h);
  const g = await provision(b, f);
  return { b, logs, g };
}

function gatewayClient(b: BrokerHarness, g: ProvisionedGateway): MqttClient {
  const client = connectGateway(b, g, { will: { topic: g.topics.status, payload: Buffer.from(status('offline')), qos: 1, retain: true } });
  cleanups.push(() => client.end(true));
  return client;
}

describe('publish rules', () => {
  it('retained only on its own status; offline only in its will', () => {
    const gw = { kind: 'gateway', gatewayId: 'a' } as const;
    const live = (topic: string, payload: string, retain: boolean) => rulePublish(gw, { topic, payload: Buffer.from(payload), retain, will: false }).verdict;
    const will = (payload: string) => rulePublish(gw, { topic: 'att/v1/gw/a/status', payload: Buffer.from(payload), retain: true, will: true }).verdict;
    expect(live('att/v1/gw/a/events', '{}', false)).toBe('allow');
    expect(live('att/v1/gw/a/events', '{}', true)).toBe('refuse');
    expect(live('att/v1/gw/a/status', status('online'), true)).toBe('allow');
    expect(live('att/v1/gw/a/status', status('offline'), true)).toBe('ignore');
    expect(live('att/v1/gw/b/status', status('online'), false)).toBe('refuse');
    expect(will(status('offline'))).toBe('allow');
    expect(will(status('online'))).toBe('refuse');
    expect(will('')).toBe('refuse');
    expect(rulePublish({ kind: 'cloud' }, { topic: 'att/v1/gw/a/cmd', payload: Buffer.from('{}'), retain: true, will: false }).verdict).toBe('allow');
  });
});

describe('retained publishes', () => {
  it("closes a gateway that publishes a retained event, and the cloud ingests nothing", async () => {
    const { b, logs, g } = await classroom();
    const ingested: unknown[] = [];
    cleanups.push(b.bridge.onIngested((o) => ingested.push(o)));
    const client = gatewayClient(b, g);
    expect(await connectOutcome(client)).toBe('connected');
    const gone = closesWithin(client, 3000);
    client.publish(g.topics.events, envelope('heartbeat', {}), { qos: 1, retain: true });
    expect(await gone).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(ingested).toEqual([]);
    expect(logs.lines.find((l) => l.msg === 'mqtt publish refused')).toMatchObject({ level: 40, reason: 'retained publish' });
  });
});

describe('offline status', () => {
  it('a connected gateway cannot report itself offline: the cloud keeps it online until its connection is lost and its will says offline', async () => {
    const { b, logs, g } = await classroom('info');
    const client = gatewayClient(b, g);
    expect(await connectOutcome(client)).toBe('connected');
    await client.publishAsync(g.topics.status, status('online'), { qos: 1, retain: true });
    await eventually(async () => (await gatewayRow(b, g.gatewayId)).state === 'online', 5000, 'state online');
    await client.publishAsync(g.topics.status, status('offline'), { qos: 1, retain: true }); // acknowledged
    // A status after it, so the offline one has been through the cloud by the time this one is.
    await client.publishAsync(g.topics.status, status('online', 'after'), { qos: 1, retain: true });
    await eventually(async () => (await gatewayRow(b, g.gatewayId)).version === 'after', 5000, 'the later status');
    const offlineStatuses = () => logs.lines.filter((l) => l.msg === 'gateway status' && l.state === 'offline');
    expect(offlineStatuses()).toEqual([]);
    expect(client.connected).toBe(true);
    client.stream.destroy(); // the connection is lost: the broker publishes the will
    await eventually(async () => (await gatewayRow(b, g.gatewayId)).state === 'offline', 5000, 'the will');
    expect(offlineStatuses()).toHaveLength(1);
  });

  it("the gateway's own link still comes online, and its clean stop is acknowledged at once and leaves it offline", async () => {
    const { b, g } = await classroom();
    const gw = memoryLogger('info');
    const events = new GatewayEvents(gw.log);
    const store = openStore(':memory:', g.gatewayId, b.topicPrefix, { events });
    cleanups.push(() => store.close());
    const drain = new OutboxDrain({ store, events, log: gw.log });
    const link = new MqttLink(
      { url: b.bridge.brokerUrl, gatewayId: g.gatewayId, topicPrefix: b.topicPrefix, username: g.gatewayId, password: g.password, ca: undefined, version: 'test', backoffMinMs: 50, backoffMaxMs: 100 },
      { drain, events, log: gw.log },
    );
    cleanups.push(() => link.stop());
    link.start();
    await eventually(async () => (await gatewayRow(b, g.gatewayId)).state === 'online', 5000, 'state online');
    const started = Date.now();
    await link.stop(); // says offline itself, then closes without DISCONNECT
    expect(Date.now() - started).toBeLessThan(1500); // its offline was acknowledged, not left to time out
    await eventually(async () => (await gatewayRow(b, g.gatewayId)).state === 'offline', 5000, 'state offline');
    await new Promise((r) => setTimeout(r, 300));
    expect(gw.lines.filter((l) => l.msg === 'mqtt connected')).toHaveLength(1); // no reconnect while stopping
  });
});
