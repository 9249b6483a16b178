/**
 * Cloud ingest benchmark (bench/README.md), two measurements on the real cloud (cloud/main.ts, SQLite,
 * embedded aedes broker on a free loopback port):
 *
 *  1. throughput: 50 simulated gateways (plain mqtt clients with their provisioned credentials,
 *     QoS 1, clean session false, in a child process: bench/ingest-gateways.ts) each publish EVENTS_PER_GATEWAY events as fast as the broker
 *     takes them — token.rotated for their room's live session, one heartbeat in ten. Measured
 *     from the first publish to the last event applied in the database; every event id must be
 *     applied exactly once (none lost, none twice). Beside it,
 *     in the same run, the broker's raw QoS 1 rate: the same broker (startEmbeddedBroker, no
 *     ingest) and the same 50 publishers, delivering to a subscriber that does nothing.
 *  2. latency: a teacher's `session/start` over HTTP until a phone (the real noble on the virtual
 *     air) hears the new advertising data from a gateway process on the virtual radio
 *     (`attendance-gateway run --radio virtual`), repeated START_RUNS times.
 *
 * With `--broker mqtt://…` the cloud uses that external broker (MQTT_URL, a topic prefix of its
 * own) instead of aedes, and 1a measures that broker alone; with `--database postgres://…` it runs
 * on a fresh schema of that PostgreSQL database (created and dropped by the bench).
 *
 *   node --import tsx bench/ingest.ts [--gateways 50] [--events 400] [--starts 40] [--broker mqtt://…] [--database postgres://…]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { connect } from 'mqtt';
import { pino } from 'pino';
import { eventsWildcard } from '../shared/mqtt/topics.js';
import { startEmbeddedBroker } from '../cloud/broker/embedded.js';
import { deriveSessionKey, tokenForWindow } from '../shared/token.js';
import { AirHub } from '../gateway/ble/virtual/air-hub.js';
import type { RunningCloud } from '../cloud/main.js';
import { CloudApi, createClassroom } from '../scripts/classroom/api.js';
import { startLocalCloud } from '../scripts/classroom/cloud.js';
import { GatewayProcess, provisionGateway } from '../scripts/classroom/gateway-process.js';
import { PhoneListener } from '../scripts/classroom/phones.js';
import { testDatabase } from '../test/helpers/cloud.js';

const { values: args } = parseArgs({ options: { gateways: { type: 'string' }, events: { type: 'string' }, starts: { type: 'string' }, broker: { type: 'string' }, database: { type: 'string' } } });
const GATEWAYS = Number(args.gateways ?? 50);
const EVENTS_PER_GATEWAY = Number(args.events ?? 400);
const START_RUNS = Number(args.starts ?? 40);
const admin = { email: 'bench@uni.example', password: 'bench-admin-password' };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

type Gateways = Array<{ id: string; password: string; sessionId: string }>;
interface Burst { ids: string[]; began: number; acked: number }

/** The 50 gateways in a child process (as separate devices would be), publishing one burst to `brokerUrl`. */
async function burst(brokerUrl: string, topicPrefix: string, gateways: Gateways, onReady: () => void = () => undefined): Promise<Burst> {
  const child = fork(fileURLToPath(new URL('./ingest-gateways.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (type: string) => new Promise<Record<string, unknown>>((resolve, reject) => {
    const on = (m: Record<string, unknown>) => {
      if (m.type === 'error') reject(new Error(String(m.message)));
      if (m.type !== type) return;
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
  });
  const ready = next('ready');
  child.send({ type: 'setup', setup: { brokerUrl, topicPrefix, events: EVENTS_PER_GATEWAY, gateways } });
  await ready;
  onReady();
  const done = next('done');
  child.send({ type: 'go' });
  const report = (await done) as unknown as Burst;
  child.disconnect();
  return report;
}

/**
 * The broker alone: the embedded one from the same code, same limits, same gateways' credentials
 * (or the external broker itself); the subscriber does nothing.
 */
async function rawBrokerRate(cloud: RunningCloud, gateways: Gateways): Promise<{ acked: number; delivered: number }> {
  const own = { username: `cloud-${randomBytes(6).toString('hex')}`, password: randomBytes(32).toString('base64url') };
  const broker = args.broker
    ? { url: args.broker, close: async () => undefined }
    : await startEmbeddedBroker({
      port: 0, host: '127.0.0.1', topicPrefix: cloud.config.mqtt.topicPrefix, cloud: own, limits: cloud.config.mqtt.limits, logger: pino({ level: 'warn' }),
      lookupGateway: async (id) => {
        const g = await cloud.store.gateways.get(id);
        return g ? { secretHash: g.secret_hash, revoked: g.revoked_at !== null } : null;
      },
    });
  const sink = connect(broker.url, { clientId: own.username, username: own.username, password: own.password, clean: true, protocolVersion: 4 });
  await new Promise<void>((resolve, reject) => {
    sink.once('connect', () => sink.subscribe(eventsWildcard(cloud.config.mqtt.topicPrefix), { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    sink.once('error', reject);
  });
  const total = GATEWAYS * EVENTS_PER_GATEWAY;
  let delivered = 0;
  let lastDeliveredAt = 0;
  sink.on('message', () => {
    delivered++;
    lastDeliveredAt = Date.now();
  });
  const r = await burst(broker.url, cloud.config.mqtt.topicPrefix, gateways);
  // A broker acknowledges before it delivers: the rate is to the last delivery, and closing earlier would drop the rest.
  while (delivered < total && Date.now() - r.acked < 120_000) await new Promise((resolve) => setTimeout(resolve, 20));
  await sink.endAsync(true);
  await broker.close();
  return { acked: total / ((r.acked - r.began) / 1000), delivered: delivered / ((lastDeliveredAt - r.began) / 1000) };
}

async function throughput(cloud: RunningCloud, api: CloudApi, adminToken: string): Promise<void> {
  // 50 rooms of one course, each with a provisioned gateway and a live session.
  const c = await createClassroom(api, adminToken, { courseCode: 'BENCH', courseName: 'Bench', roomName: 'Bench room 0', teacherName: 'Bench Teacher', studentNames: [], tag: 'tp' });
  const rooms = [{ id: c.roomId }];
  for (let i = 1; i < GATEWAYS; i++) rooms.push(await api.must<{ id: string }>(201, 'POST', '/api/v1/admin/rooms', { token: adminToken, body: { name: `Bench room ${i}` } }));
  const gateways: Gateways = [];
  for (const room of rooms) {
    const p = await api.must<{ credentials: { config: { gateway_id: string; mqtt_password: string } } }>(201, 'POST', `/api/v1/admin/rooms/${room.id}/gateways`, { token: adminToken, body: { mode: 'credentials' } });
    const s = await api.must<{ session_id: string }>(201, 'POST', '/api/v1/teacher/session/start', { token: c.teacher.token, body: { course_id: c.courseId, room_id: room.id, period_s: 10 } });
    gateways.push({ id: p.credentials.config.gateway_id, password: p.credentials.config.mqtt_password, sessionId: s.session_id });
  }
  const raw = await rawBrokerRate(cloud, gateways);
  console.log(`\nthe broker alone (same publishers, a subscriber that does nothing): ${Math.round(raw.delivered)} events/s delivered (PUBACKed at ${Math.round(raw.acked)}/s)`);

  // Count what the cloud applies, per event id.
  const applied = new Map<string, number>();
  let duplicates = 0;
  let rejected = 0;
  let lastAppliedAt = 0;
  const total = GATEWAYS * EVENTS_PER_GATEWAY;
  const report = await burst(cloud.bridge!.brokerUrl, cloud.config.mqtt.topicPrefix, gateways, () => {
    cloud.bridge!.onIngested((o) => {
      if (o.result === 'applied') {
        applied.set(o.id, (applied.get(o.id) ?? 0) + 1);
        lastAppliedAt = Date.now();
      } else if (o.result === 'duplicate') duplicates++;
      else rejected++;
    });
  });
  const began = report.began;
  const sent = new Set(report.ids);
  const published = Date.now();
  while (applied.size + rejected < total && Date.now() - published < 120_000) await new Promise((r) => setTimeout(r, 20));
  const seconds = (lastAppliedAt - began) / 1000;
  const twice = [...applied.values()].filter((n) => n > 1).length;
  const lost = [...sent].filter((id) => !applied.has(id)).length;
  const rate = total / seconds;
  console.log(`\ningest throughput: ${GATEWAYS} gateways × ${EVENTS_PER_GATEWAY} events = ${total}`);
  console.log(`  all PUBACKed after ${((report.acked - began) / 1000).toFixed(2)} s; all applied after ${seconds.toFixed(2)} s`);
  console.log(`  ${Math.round(rate)} events/s ingested; lost ${lost}, applied twice ${twice}, duplicates skipped ${duplicates}, rejected ${rejected}`);
  console.log(`  = ${(rate / raw.delivered).toFixed(2)} × the broker alone`);
}

async function startLatency(cloud: RunningCloud, api: CloudApi, adminToken: string, dir: string): Promise<void> {
  const hub = new AirHub(`unix:${path.join(dir, 'air.sock')}`);
  const air = await hub.start();
  const phones = await PhoneListener.start(hub, pino({ level: 'warn' }));
  const c = await createClassroom(api, adminToken, { courseCode: 'LAT', courseName: 'Latency', roomName: 'Latency room', teacherName: 'Latency Teacher', studentNames: [], tag: 'lat' });
  const issued = await api.must<{ gateway_id: string; provisioning_code: string }>(201, 'POST', `/api/v1/admin/rooms/${c.roomId}/gateways`, { token: adminToken, body: {} });
  const configPath = await provisionGateway(cloud.url, issued.provisioning_code, { dir: path.join(dir, 'gw'), config: { log_level: 'warn' } });
  const secret = Buffer.from((JSON.parse(fs.readFileSync(configPath, 'utf8')) as { room_secret: string }).room_secret, 'hex');
  const gw = GatewayProcess.start(configPath, air);
  for (let i = 0; ; i++) {
    const list = await api.must<{ items: Array<{ gateway_id: string; state: string }> }>(200, 'GET', '/api/v1/admin/gateways', { token: adminToken });
    if (list.items.some((g) => g.gateway_id === issued.gateway_id && g.state === 'online')) break;
    if (i > 300) throw new Error('the gateway did not come online');
    await new Promise((r) => setTimeout(r, 100));
  }
  const toHeard: number[] = [];
  const toAnswer: number[] = [];
  for (let run = 0; run < START_RUNS + 3; run++) {
    const tapped = performance.now();
    const tappedWall = Date.now();
    const start = await api.must<{ session_id: string; gateway: { state: string } }>(201, 'POST', '/api/v1/teacher/session/start', { token: c.teacher.token, body: { course_id: c.courseId, room_id: c.roomId, period_s: 60 } });
    const answered = performance.now();
    const key = deriveSessionKey(secret, start.session_id);
    const heard = await phones.waitFor((f) => f.roomCode === c.roomCode && f.token === tokenForWindow(key, f.w).toString('hex'), 5000, 'the new session on air');
    if (run >= 3) {
      // Warm-up runs excluded. firstHeardAt is wall-clock ms from the scan report.
      toHeard.push(heard.firstHeardAt - tappedWall);
      toAnswer.push(answered - tapped);
    }
    await api.must(200, 'POST', `/api/v1/teacher/session/${start.session_id}/end`, { token: c.teacher.token });
    await new Promise((r) => setTimeout(r, 150));
  }
  toHeard.sort((a, b) => a - b);
  toAnswer.sort((a, b) => a - b);
  console.log(`\nteacher start → new advertising data heard by a phone (${START_RUNS} runs, gateway process on the virtual radio)`);
  console.log(`  p50 ${percentile(toHeard, 50)} ms, p95 ${percentile(toHeard, 95)} ms, max ${toHeard.at(-1)} ms`);
  console.log(`  start request answered (incl. the gateway's confirmation): p50 ${percentile(toAnswer, 50).toFixed(0)} ms, p95 ${percentile(toAnswer, 95).toFixed(0)} ms`);
  await gw.stop();
  await phones.stop();
  await hub.close();
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-bench-ingest-'));
  const database = await testDatabase(dir, args.database);
  const tag = randomBytes(4).toString('hex');
  const external: Record<string, string> = args.broker ? { MQTT_URL: args.broker, MQTT_TOPIC_PREFIX: `att-bench-${tag}/v1`, MQTT_CLIENT_ID: `cloud-bench-${tag}` } : {};
  const cloud = await startLocalCloud({ dataDir: dir, admin, logLevel: 'warn', env: { DATABASE_URL: database.url, ...external } });
  try {
    const api = new CloudApi(cloud.url);
    const adminToken = await api.login(admin.email, admin.password);
    console.log(`cloud ${cloud.url}, ${args.broker ? 'external' : 'embedded'} broker ${cloud.bridge!.brokerUrl}, ${args.database ? 'PostgreSQL' : 'SQLite'}; node ${process.version}, ${os.cpus().length} cores`);
    await throughput(cloud, api, adminToken);
    await startLatency(cloud, api, adminToken, dir);
  } finally {
    await cloud.stop();
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
