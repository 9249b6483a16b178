/**
 * The gateway's MQTT link against real brokers over real sockets: aedes in this process, and a
 * Mosquitto of each test's own (configured as a deployment must be: the system Mosquitto's default
 * `max_queued_messages 1000` drops messages to a subscriber that falls behind a 1,500-event
 * backlog, which is the broker's setting, not the gateway's loss). The cloud is played by an mqtt client.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PrivateMosquitto } from '../../bench/campus/mosquitto.js';
import { connectAsync } from 'mqtt';
import { uuidv7 } from '../../shared/ids.js';
import { CloudObserver, startAedes, startCable, uniquePrefix, type AedesBroker, type Cable } from './brokers.js';
import { buildGateway, queueRotations, type TestGateway } from './gateway-harness.js';

interface BrokerUnderTest {
  /** Where the observer (the cloud) connects. */
  directUrl: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

const brokers: Record<string, () => Promise<BrokerUnderTest>> = {
  aedes: async () => {
    const b = await startAedes();
    return { directUrl: b.url, host: '127.0.0.1', port: b.port, close: () => b.close() };
  },
  mosquitto: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-mosquitto-'));
    const m = await PrivateMosquitto.start(dir);
    return { directUrl: m.url, host: '127.0.0.1', port: Number(new URL(m.url).port), close: async () => {
      await m.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    } };
  },
};

const cleanups: Array<() => Promise<void>> = [];

/** Clears the gateway's retained status and, connecting once with clean session, its broker session. */
async function forgetGateway(url: string, gatewayId: string, prefix: string): Promise<void> {
  const client = await connectAsync(url, { clientId: `gw-${gatewayId}`, clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  await client.publishAsync(`${prefix}/gw/${gatewayId}/status`, '', { qos: 1, retain: true });
  await client.endAsync();
}
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each(Object.keys(brokers))('MQTT link via %s', (brokerName) => {
  async function classroom(): Promise<{ gw: TestGateway; cloud: CloudObserver; cable: Cable; brokerUrl: string }> {
    const broker = await brokers[brokerName]!();
    cleanups.push(() => broker.close());
    const prefix = uniquePrefix();
    const cable = await startCable(broker.host, broker.port);
    cleanups.push(() => cable.close());
    const gw = buildGateway({ url: cable.url, prefix });
    // Runs after gw.stop(): leave nothing behind on the shared Mosquitto (retained status, session).
    cleanups.push(() => forgetGateway(broker.directUrl, gw.gatewayId, prefix));
    cleanups.push(() => gw.stop());
    const cloud = await CloudObserver.connect(broker.directUrl, prefix, gw.gatewayId);
    cleanups.push(() => cloud.close());
    return { gw, cloud, cable, brokerUrl: broker.directUrl };
  }

  it('announces itself online (retained) and drains a backlog in order, emptying the outbox', async () => {
    const { gw, cloud, brokerUrl } = await classroom();
    const ids = queueRotations(gw.store, 1500);
    await gw.daemon.start();
    await cloud.waitFor((o) => ids.every((id) => o.ids.has(id)), 20_000, 'the backlog');
    const rotations = cloud.distinct().filter((e) => e.type === 'token.rotated');
    expect(rotations.map((e) => e.id)).toEqual(ids);
    expect(cloud.statuses[0]?.state).toBe('online');
    // A cloud instance that subscribes later still learns the state: the status is retained.
    const late = await CloudObserver.connect(brokerUrl, gw.prefix, gw.gatewayId);
    cleanups.push(() => late.close());
    await late.waitFor((o) => o.statuses.length > 0, 5000, 'the retained status');
    expect(late.statuses[0]).toEqual({ state: 'online', retain: true });
    await cloud.waitFor(() => gw.store.outbox.depth() <= 1, 5000, 'an empty outbox'); // the heartbeat may still be in flight
    expect(gw.daemon.drain.deliveredCount()).toBeGreaterThanOrEqual(1500);
  });

  it('loses nothing and duplicates nothing (by envelope id) when the link drops mid-drain and later returns', async () => {
    const { gw, cloud, cable } = await classroom();
    const before = queueRotations(gw.store, 2000);
    await gw.daemon.start();
    await cloud.waitFor((o) => o.received.length >= 300, 20_000, 'the drain to start');
    cable.unplug();
    // The room keeps working while the network is down: rotations keep queuing.
    const during = queueRotations(gw.store, 300, undefined, 50_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(gw.daemon.link.linkState()).toBe('offline');
    cable.plug();
    const all = [...before, ...during];
    await cloud.waitFor((o) => all.every((id) => o.ids.has(id)), 30_000, 'every event after the outage');
    const distinct = cloud.distinct().filter((e) => e.type === 'token.rotated');
    expect(distinct.map((e) => e.id)).toEqual(all);
    // Repeats are allowed on the wire (at-least-once) but must be rare: only what was in flight at the cut.
    const repeats = cloud.received.filter((e) => e.type === 'token.rotated').length - all.length;
    expect(repeats).toBeLessThanOrEqual(64);
    await cloud.waitFor(() => gw.store.outbox.depth() <= 1, 5000, 'an empty outbox');
  }, 60_000); // its own waits add up to 56.5 s on a loaded machine (20 + 1.5 + 30 + 5)

  it('publishes the retained offline last will when the gateway vanishes without a goodbye', async () => {
    const { gw, cloud, cable } = await classroom();
    await gw.daemon.start();
    await cloud.waitFor((o) => o.statuses.some((s) => s.state === 'online'), 10_000, 'online');
    cable.unplug();
    await cloud.waitFor((o) => o.statuses.at(-1)?.state === 'offline', 10_000, 'the last will');
  });

  it('answers commands, including malformed and unknown ones, and stays alive', async () => {
    const { gw, cloud } = await classroom();
    await gw.daemon.start();
    await cloud.waitFor((o) => o.statuses.some((s) => s.state === 'online'), 10_000, 'online');
    const send = (env: unknown) => cloud.sendCommand(gw.prefix, gw.gatewayId, env);
    const at = new Date().toISOString();
    const startId = uuidv7();
    const unknownId = uuidv7();
    const badId = uuidv7();
    const pingId = uuidv7();
    await send({ id: startId, type: 'session.start', at, data: { session_id: '0192f3a0-7c00-7000-8000-000000000001', course_id: 'CS101', period_s: 60 } });
    await send('this is not json {');
    await send({ id: unknownId, type: 'self.destruct', at, data: {} });
    await send({ id: badId, type: 'session.end', at, data: { session_id: 42 } });
    await send({ id: pingId, type: 'ping', at, data: {} });
    const result = (id: string) => cloud.distinct().find((e) => e.type === 'command.result' && e.data.command_id === id)?.data;
    await cloud.waitFor(() => result(pingId) !== undefined, 10_000, 'the ping result');
    expect(result(startId)).toEqual({ command_id: startId, ok: true });
    expect(result(unknownId)).toMatchObject({ ok: false, error: { code: 'unknown_type' } });
    expect(result(badId)).toMatchObject({ ok: false, error: { code: 'invalid_data' } });
    expect(result(pingId)).toEqual({ command_id: pingId, ok: true });
    expect(gw.logs.lines.filter((l) => l.msg === 'command rejected').map((l) => l.code)).toEqual(['malformed_json', 'unknown_type', 'invalid_data']);
    // The session really went on air, and the cloud heard about it.
    expect(gw.radio.onAirHex()).toMatch(/^02010614ffffff0100012345/);
    expect(cloud.distinct().some((e) => e.type === 'session.started' && e.data.source === 'cloud')).toBe(true);
    expect(cloud.distinct().some((e) => e.type === 'token.rotated')).toBe(true);
  });
});

describe('MQTT link when aedes itself restarts (broker state lost)', () => {
  it('re-subscribes to its commands and delivers everything queued meanwhile', async () => {
    let broker: AedesBroker = await startAedes();
    const port = broker.port;
    const prefix = uniquePrefix();
    const gw = buildGateway({ url: broker.url, prefix });
    cleanups.push(() => gw.stop());
    let cloud = await CloudObserver.connect(broker.url, prefix, gw.gatewayId);
    await gw.daemon.start();
    await cloud.waitFor((o) => o.statuses.some((s) => s.state === 'online'), 10_000, 'online');
    await cloud.close();
    await broker.close();
    const queued = queueRotations(gw.store, 500);
    await new Promise((r) => setTimeout(r, 500));
    // Hold the gateway at CONNECT until the cloud has subscribed again, as a real cloud would be first.
    let cloudReady = false;
    broker = await startAedes(port, { authenticate: (client, _u, _p, done) => done(null, cloudReady || !client.id.startsWith('gw-')) });
    cleanups.push(() => broker.close());
    cloud = await CloudObserver.connect(broker.url, prefix, gw.gatewayId);
    cleanups.push(() => cloud.close());
    cloudReady = true;
    await cloud.waitFor((o) => queued.every((id) => o.ids.has(id)), 20_000, 'the queued events');
    expect(cloud.distinct().filter((e) => e.type === 'token.rotated').map((e) => e.id)).toEqual(queued);
    const pingId = uuidv7();
    await cloud.sendCommand(prefix, gw.gatewayId, { id: pingId, type: 'ping', at: new Date().toISOString(), data: {} });
    await cloud.waitFor((o) => o.distinct().some((e) => e.type === 'command.result' && e.data.command_id === pingId), 10_000, 'the ping result');
  });
});
