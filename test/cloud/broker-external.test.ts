/**
 * MQTT_URL set: the cloud uses an external broker (the Mosquitto at 127.0.0.1:1883) instead of
 * starting aedes, ingests through the shared subscription `$share/cloud/<prefix>/gw/+/events`, and
 * publishes commands there. A unique topic prefix keeps this test apart from anyone else using
 * that Mosquitto. Access control is the external broker's job (docs/operations.md); the cloud
 * still refuses events from gateway ids it did not provision.
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../shared/ids.js';
import { parseCommand } from '../../shared/mqtt/messages.js';
import { gatewayTopics } from '../../shared/mqtt/topics.js';
import { connectGateway, connectOutcome, envelope, eventually, gatewayRow, provision, setupCourse, startBrokerHarness, type BrokerHarness } from './broker-harness.js';

const MOSQUITTO_URL = 'mqtt://127.0.0.1:1883';
let b: BrokerHarness;
const clients: MqttClient[] = [];

describe('external broker', () => {
  beforeAll(async () => {
    const tag = randomBytes(4).toString('hex');
    b = await startBrokerHarness({ external: { url: MOSQUITTO_URL, topicPrefix: `att-test-${tag}/v1`, clientId: `cloud-test-${tag}` } });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await b?.close();
  });

  it('starts no embedded broker, hands gateways the external URL and carries events and commands', async () => {
    expect(b.bridge.broker).toBeNull();
    expect(b.bridge.brokerUrl).toBe(MOSQUITTO_URL);
    const f = await setupCourse(b.h);
    const g = await provision(b, f);
    const answer = await b.h.http().post(`/api/v1/admin/rooms/${f.roomId}/gateways`).set(f.admin.auth).send({ mode: 'credentials' });
    expect(answer.body.credentials.config).toMatchObject({ mqtt_url: MOSQUITTO_URL, topic_prefix: b.topicPrefix });
    const current = { ...g, gatewayId: answer.body.credentials.config.gateway_id, password: answer.body.credentials.config.mqtt_password, topics: gatewayTopics(answer.body.credentials.config.gateway_id, b.topicPrefix) };

    const client = connectGateway(b, current);
    clients.push(client);
    expect(await connectOutcome(client)).toBe('connected');
    const received: string[] = [];
    client.on('message', (_t, payload) => {
      const parsed = parseCommand(payload);
      if (!parsed.ok) return;
      received.push(parsed.value.type);
      client.publish(current.topics.events, envelope('command.result', { command_id: parsed.value.id, ok: true }), { qos: 1 });
    });
    await client.subscribeAsync(current.topics.cmd, { qos: 1 });
    await client.publishAsync(current.topics.status, JSON.stringify({ state: 'online', at: new Date().toISOString(), version: 'ext' }), { qos: 1, retain: true });
    await eventually(async () => (await gatewayRow(b, current.gatewayId)).state === 'online', 5000, 'online');

    const start = await b.h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: 60 });
    expect(start.body.gateway).toMatchObject({ state: 'confirmed', gateway_id: current.gatewayId });
    expect(received).toEqual(['session.start']);

    // The revoked first gateway's events are refused by the cloud even though Mosquitto lets it publish.
    const old = connectGateway(b, g);
    clients.push(old);
    expect(await connectOutcome(old)).toBe('connected');
    await old.publishAsync(g.topics.events, envelope('token.rotated', { session_id: start.body.session_id, w: 1, advertised_at: new Date().toISOString() }), { qos: 1 });
    await client.publishAsync(current.topics.events, envelope('token.rotated', { session_id: start.body.session_id, w: 2, advertised_at: new Date().toISOString() }), { qos: 1 });
    const ingested = await eventually(async () => {
      const rows = await b.h.store.db.selectFrom('ingested_events').select(['type', 'gateway_id']).where('type', '=', 'token.rotated').execute();
      return rows.length > 0 && rows;
    }, 5000, 'the rotation');
    await new Promise((r) => setTimeout(r, 200));
    expect(ingested).toEqual([{ type: 'token.rotated', gateway_id: current.gatewayId }]);
    await client.publishAsync(current.topics.status, '', { qos: 1, retain: true }); // leave no retained message behind
  });

  it('commits events that arrive together over the shared subscription in one transaction, and acknowledges each only after its commit', async () => {
    // The cloud's connections (private to the link) and the batches the ingest commits.
    const link = b.bridge.link as unknown as { client: MqttClient; eventClients?: MqttClient[] };
    const cloudClients = [link.client, ...(link.eventClients ?? [])];
    const committed = new Set<string>();
    const batches: number[] = [];
    const ingest = b.bridge.ingest;
    const handleBatch = ingest.handleBatch.bind(ingest);
    ingest.handleBatch = async (items) => {
      // The first commit is slow (as under load) until other connections hold events too, or 2 s.
      if (!batches.length) await eventually(() => inHand.size >= 4, 2000, 'events in hand').catch(() => undefined);
      const outcomes = await handleBatch(items);
      batches.push(items.length);
      for (const o of outcomes) if (o.id) committed.add(o.id);
      return outcomes;
    };
    const inHand = new Map<string, string>();
    const ackedBeforeCommit: string[] = [];
    const acked: string[] = [];
    cloudClients.forEach((c, n) => {
      c.on('packetreceive', (p) => {
        if (p.cmd === 'publish' && p.topic.endsWith('/events')) inHand.set(`${n}/${p.messageId}`, JSON.parse(p.payload.toString()).id);
      });
      c.on('packetsend', (p) => {
        const id = p.cmd === 'puback' ? inHand.get(`${n}/${p.messageId}`) : undefined;
        if (!id) return;
        acked.push(id);
        if (!committed.has(id)) ackedBeforeCommit.push(id);
      });
    });
    try {
      const gateways = [];
      for (const code of ['EXT1', 'EXT2']) {
        const f = await setupCourse(b.h, { code, students: 0 });
        gateways.push(await provision(b, f));
      }
      const sent: string[] = [];
      await Promise.all(gateways.map(async (gw) => {
        const client = connectGateway(b, gw);
        clients.push(client);
        expect(await connectOutcome(client)).toBe('connected');
        await Promise.all(Array.from({ length: 12 }, (_, i) => {
          const id = uuidv7();
          sent.push(id);
          const hb = { uptime_s: i, clock: new Date().toISOString(), radio: 'ok', outbox_depth: 0, memory_rss: 1, version: 'ext' };
          return client.publishAsync(gw.topics.events, envelope('heartbeat', hb, id), { qos: 1 });
        }));
      }));
      await eventually(() => acked.length >= sent.length, 10_000, 'every event acknowledged');
      expect([...committed].filter((id) => sent.includes(id)).sort()).toEqual([...sent].sort());
      expect(ackedBeforeCommit).toEqual([]);
      // Batched: fewer transactions than events, some holding several.
      expect(batches.length).toBeLessThan(sent.length);
      expect(Math.max(...batches)).toBeGreaterThan(1);
    } finally {
      ingest.handleBatch = handleBatch;
    }
  });
});

// One harness at a time: on PostgreSQL each harness is a schema, and Kysely's migrator does not
// tell two schemas' lock tables apart while both exist.
describe('external broker down', () => {
  it('an unreachable external broker does not stop the cloud: commands queue until it answers', async () => {
    const down = await startBrokerHarness({ external: { url: 'mqtt://127.0.0.1:9', topicPrefix: 'att-down/v1', clientId: 'cloud-test-down' } });
    try {
      expect(down.bridge.link.connected).toBe(false);
      const f = await setupCourse(down.h);
      await provision(down, f);
      const res = await down.h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId });
      expect(res.status).toBe(201);
      expect(res.body.gateway.state).toBe('queued');
    } finally {
      await down.close();
    }
  });
});
