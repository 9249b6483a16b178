/**
 * Access control at the embedded broker (docs/protocol.md §MQTT): wrong credentials are refused at
 * CONNECT, a gateway cannot publish to or subscribe to another gateway's topics, and revoked
 * credentials stop working — real aedes over a real socket, gateways as plain mqtt clients.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectGateway, connectOutcome, envelope, eventually, gatewayRow, provision, setupCourse, startBrokerHarness, type BrokerHarness } from './broker-harness.js';
import { mayPublish, maySubscribe } from '../../cloud/broker/acl.js';

let b: BrokerHarness;
const clients: MqttClient[] = [];
const track = (c: MqttClient) => (clients.push(c), c);

beforeEach(async () => {
  b = await startBrokerHarness();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await b.close();
});

describe('topic rules', () => {
  it('a gateway may publish its own status and events and subscribe only to its own cmd', () => {
    const gw = { kind: 'gateway', gatewayId: 'a' } as const;
    expect(mayPublish(gw, 'att/v1/gw/a/events')).toBe(true);
    expect(mayPublish(gw, 'att/v1/gw/a/status')).toBe(true);
    expect(mayPublish(gw, 'att/v1/gw/a/cmd')).toBe(false);
    expect(mayPublish(gw, 'att/v1/gw/b/events')).toBe(false);
    expect(maySubscribe(gw, 'att/v1/gw/a/cmd')).toBe(true);
    expect(maySubscribe(gw, 'att/v1/gw/b/cmd')).toBe(false);
    expect(maySubscribe(gw, 'att/v1/gw/+/cmd')).toBe(false);
    expect(maySubscribe(gw, '#')).toBe(false);
    const cloud = { kind: 'cloud' } as const;
    expect(mayPublish(cloud, 'att/v1/gw/a/cmd')).toBe(true);
    expect(mayPublish(cloud, 'att/v1/gw/a/events')).toBe(false);
    expect(maySubscribe(cloud, '$share/cloud/att/v1/gw/+/events')).toBe(true);
    expect(maySubscribe(cloud, 'att/v1/gw/+/status')).toBe(true);
    expect(maySubscribe(cloud, '#')).toBe(false);
  });
});

describe('CONNECT', () => {
  it('lets a provisioned gateway in and shows it online without exposing its secret', async () => {
    const f = await setupCourse(b.h);
    const g = await provision(b, f);
    const client = track(connectGateway(b, g, { will: { topic: g.topics.status, payload: Buffer.from('{}'), qos: 1, retain: true } }));
    expect(await connectOutcome(client)).toBe('connected');
    await client.publishAsync(g.topics.status, JSON.stringify({ state: 'online', at: new Date().toISOString(), version: '1.2.3' }), { qos: 1, retain: true });
    await eventually(async () => (await gatewayRow(b, g.gatewayId)).state === 'online', 5000, 'state online');
    const list = await b.h.http().get('/api/v1/admin/gateways').set(f.admin.auth);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ gateway_id: g.gatewayId, room_id: f.roomId, state: 'online', version: '1.2.3', pending_commands: 0 });
    expect(JSON.stringify(list.body)).not.toContain(g.password);
    expect(JSON.stringify(list.body)).not.toContain(g.roomSecret);
  });

  it('refuses a wrong secret, an unknown gateway and a borrowed client id with the 3.1.1 return codes', async () => {
    const f = await setupCourse(b.h);
    const g = await provision(b, f);
    expect(await connectOutcome(track(connectGateway(b, { ...g, password: 'not-the-secret' })))).toEqual({ code: 4 });
    expect(await connectOutcome(track(connectGateway(b, { gatewayId: 'nobody', password: g.password })))).toEqual({ code: 4 });
    expect(await connectOutcome(track(connectGateway(b, g, { clientId: 'gw-someone-else' })))).toEqual({ code: 2 });
    expect(await connectOutcome(track(connectGateway(b, g, { username: undefined, password: undefined })))).toEqual({ code: 4 });
    expect((await gatewayRow(b, g.gatewayId)).state).toBe('never_connected');
  });
});

describe('publish and subscribe rules', () => {
  it("closes a gateway that publishes to another gateway's events, and the cloud ingests nothing", async () => {
    const f = await setupCourse(b.h);
    const a = await provision(b, f);
    const f2 = await setupCourse(b.h, { code: 'CS202' });
    const other = await provision(b, f2);
    const client = track(connectGateway(b, a));
    expect(await connectOutcome(client)).toBe('connected');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(other.topics.events, envelope('heartbeat', { uptime_s: 1, clock: new Date().toISOString(), radio: 'poweredOn', outbox_depth: 0, memory_rss: 1, version: 'x' }), { qos: 1 });
    await closed;
    await new Promise((r) => setTimeout(r, 200));
    expect((await gatewayRow(b, other.gatewayId)).last_heartbeat_at).toBeNull();
    const ingested = await b.h.store.db.selectFrom('ingested_events' as never).selectAll().execute();
    expect(ingested).toHaveLength(0);
  });

  it("grants its own cmd topic and refuses another gateway's cmd and wildcards (SUBACK 0x80)", async () => {
    const f = await setupCourse(b.h);
    const a = await provision(b, f);
    const client = track(connectGateway(b, a));
    expect(await connectOutcome(client)).toBe('connected');
    // mqtt.js rejects a SUBACK containing 0x80; the packet it carries lists every return code in order.
    const err = await client.subscribeAsync([a.topics.cmd, 'att/v1/gw/other/cmd', 'att/v1/gw/+/events', '#'], { qos: 1 }).then(() => null, (e: { packet?: { granted: number[] } }) => e);
    expect(err?.packet?.granted).toEqual([1, 128, 128, 128]);
    expect(client.connected).toBe(true);
  });

  it('closes a gateway that publishes a payload over 64 KiB', async () => {
    const f = await setupCourse(b.h);
    const a = await provision(b, f);
    const client = track(connectGateway(b, a));
    expect(await connectOutcome(client)).toBe('connected');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(a.topics.events, Buffer.alloc(70 * 1024, 0x20), { qos: 1 });
    await closed;
    expect((await gatewayRow(b, a.gatewayId)).rejected_events).toBe(0); // never reached the cloud
  });
});

describe('revocation', () => {
  it('re-provisioning disconnects the old gateway and its credentials stop working', async () => {
    const f = await setupCourse(b.h);
    const old = await provision(b, f);
    const client = track(connectGateway(b, old));
    expect(await connectOutcome(client)).toBe('connected');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const fresh = await provision(b, f);
    await closed;
    expect(await connectOutcome(track(connectGateway(b, old)))).toEqual({ code: 5 });
    expect(await connectOutcome(track(connectGateway(b, fresh)))).toBe('connected');
    const list = await b.h.http().get('/api/v1/admin/gateways?include_revoked=true').set(f.admin.auth);
    expect(list.body.items.map((g: { gateway_id: string; state: string }) => [g.gateway_id, g.state])).toEqual(
      expect.arrayContaining([[old.gatewayId, 'revoked'], [fresh.gatewayId, 'never_connected']]),
    );
  });

  it('DELETE revokes a gateway: connected clients are dropped and CONNECT is refused', async () => {
    const f = await setupCourse(b.h);
    const g = await provision(b, f);
    const client = track(connectGateway(b, g));
    expect(await connectOutcome(client)).toBe('connected');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    expect((await b.h.http().delete(`/api/v1/admin/gateways/${g.gatewayId}`).set(f.admin.auth)).status).toBe(204);
    await closed;
    expect(await connectOutcome(track(connectGateway(b, g)))).toEqual({ code: 5 });
  });
});
