/**
 * The memory part of bench/gateway.ts, run as its own plain-node process from compiled JS (as
 * the daemon runs in production; the tsx loader alone would add ~35 MB of RSS). Simulates a long
 * run: many rotations on a stepped clock, each in the token log and outbox, drained over MQTT to
 * the broker the parent runs. Prints one JSON line with RSS samples.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { uuidv7 } from '../shared/ids.js';
import { createAdvertiser } from '../gateway/ble/radio.js';
import { validateConfig } from '../gateway/config.js';
import { GatewayEvents } from '../gateway/events.js';
import { OutboxDrain } from '../gateway/mqtt/drain.js';
import { MqttLink } from '../gateway/mqtt/link.js';
import { OnAirEncoder } from '../gateway/on-air.js';
import { Rotation } from '../gateway/rotation.js';
import { SessionManager } from '../gateway/sessions.js';
import { openStore } from '../gateway/store/store.js';

const { values } = parseArgs({ options: { url: { type: 'string' }, rotations: { type: 'string' } } });
const ROTATIONS = Number(values.rotations ?? 200_000);
const PERIOD_S = 10;
const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'gw-bench-mem-'));
const config = validateConfig({
  gateway_id: 'bench-mem',
  room_code: 74565,
  room_secret: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  mqtt_url: values.url ?? 'mqtt://127.0.0.1:1883',
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The virtual controller's inspection log (what tests read) is instrumentation that a real
// adapter does not have; keep it small so the run measures the daemon, not the test double.
const advertiser = createAdvertiser({ kind: 'virtual', logger: log, virtual: { airIntervalMs: 1000, logLimit: 100 } });
await advertiser.start();
const events = new GatewayEvents(log);
const store = openStore(join(dir, 'memory.db'), config.gatewayId, 'att/v1', { events });
let now = Date.parse('2026-01-05T08:00:00Z');
const sessions = new SessionManager({ store, events, roomCode: config.roomCode, log });
const rotation = new Rotation({ store, events, sessions, advertiser, encoder: new OnAirEncoder(config), idleFrame: () => false, log, now: () => now, checkIntervalMs: 3_600_000 });
const drain = new OutboxDrain({ store, events, log });
const link = new MqttLink(
  { url: config.mqtt.url, gatewayId: config.gatewayId, topicPrefix: 'att/v1', username: config.gatewayId, password: undefined, ca: undefined, version: 'bench' },
  { drain, events, log },
);
drain.start();
link.start();
const samples: Array<{ rotations: number; rssMb: number }> = [];
let sessionRotations = 0;
for (let i = 1; i <= ROTATIONS; i++) {
  // A new 90-minute class every 540 windows of 10 s, as on a teaching day.
  if (sessionRotations === 0) sessions.start({ id: uuidv7(now), courseId: 'BENCH', periodS: PERIOD_S, endsAt: null, source: 'timetable' }, now);
  now += PERIOD_S * 1000;
  rotation.refresh('boundary');
  sessionRotations = (sessionRotations + 1) % 540;
  if (i % 200 === 0) await new Promise((r) => setImmediate(r));
  if (i % Math.floor(ROTATIONS / 10) === 0) {
    // Keep the broker caught up, so what is measured is the daemon, not a growing backlog.
    while (store.outbox.depth() > 1000) await sleep(5);
    samples.push({ rotations: i, rssMb: process.memoryUsage.rss() / 2 ** 20 });
  }
}
// "Memory after a long run" (bench/README.md): a deployed daemon rotates once every few minutes, so after
// the compressed burst it is sampled as it then lives — idle, with the outbox drained — every
// 10 s for a minute. V8 gives back the heap it grew during the burst once the process is idle.
while (store.outbox.depth() > 0) await sleep(10);
const afterRunMb: number[] = [];
for (let t = 0; t < 6; t++) {
  await sleep(10_000);
  afterRunMb.push(process.memoryUsage.rss() / 2 ** 20);
}
rotation.stop();
await link.stop();
await advertiser.stop();
store.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ rotations: ROTATIONS, delivered: drain.deliveredCount(), samples, afterRunMb }));
process.exit(0);
