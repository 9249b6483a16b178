/**
 * The simulated gateways of bench/ingest.ts, in their own process (real gateways are separate
 * machines; in the cloud's process they would take its CPU). Receives the broker URL, the
 * gateways' credentials and sessions over IPC, connects them all (QoS 1, clean session false,
 * client id gw-<id> as docs/protocol.md §MQTT wants), and on 'go' publishes every gateway's events as fast as
 * the broker acknowledges them. Reports the ids it sent and when the last PUBACK came.
 */
import { connect, type MqttClient } from 'mqtt';
import { uuidv7 } from '../shared/ids.js';
import { gatewayTopics } from '../shared/mqtt/topics.js';

interface Setup {
  brokerUrl: string;
  topicPrefix: string;
  events: number;
  gateways: Array<{ id: string; password: string; sessionId: string }>;
}

const send = (m: unknown) => process.send?.(m);
let clients: Array<{ g: Setup['gateways'][number]; client: MqttClient }> = [];
let setup: Setup;

async function prepare(s: Setup): Promise<void> {
  setup = s;
  clients = await Promise.all(s.gateways.map((g) => new Promise<{ g: typeof g; client: MqttClient }>((resolve, reject) => {
    const client = connect(s.brokerUrl, { clientId: `gw-${g.id}`, username: g.id, password: g.password, clean: false, protocolVersion: 4, reconnectPeriod: 0 });
    client.once('connect', () => resolve({ g, client }));
    client.once('error', reject);
  })));
  send({ type: 'ready' });
}

async function go(): Promise<void> {
  const ids: string[] = [];
  const w0 = Math.floor(Date.now() / 10_000);
  const began = Date.now();
  await Promise.all(clients.map(async ({ g, client }) => {
    const topic = gatewayTopics(g.id, setup.topicPrefix).events;
    const acks: Array<Promise<unknown>> = [];
    for (let i = 0; i < setup.events; i++) {
      const id = uuidv7();
      ids.push(id);
      const at = new Date().toISOString();
      // One heartbeat in ten, the rest token rotations of the room's live session.
      const event = i % 10 === 9
        ? { id, type: 'heartbeat', at, data: { uptime_s: i, clock: at, radio: 'poweredOn', outbox_depth: setup.events - i, memory_rss: 40_000_000, version: 'bench', session_id: g.sessionId } }
        : { id, type: 'token.rotated', at, data: { session_id: g.sessionId, w: w0 + i, advertised_at: at } };
      acks.push(client.publishAsync(topic, JSON.stringify(event), { qos: 1 }));
    }
    await Promise.all(acks);
  }));
  send({ type: 'done', ids, began, acked: Date.now() });
  for (const { client } of clients) client.end(true);
}

process.on('message', (m: { type: string; setup?: Setup }) => {
  const run = m.type === 'setup' ? prepare(m.setup!) : go();
  run.catch((err: unknown) => {
    send({ type: 'error', message: (err as Error).message });
  });
});
process.on('disconnect', () => process.exit(0));
