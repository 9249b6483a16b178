/**
 * Gateway benchmarks (bench/README.md). Run: node --import tsx bench/gateway.ts [--boundaries N] [--events N] [--rotations N] [--steady-seconds S]
 *
 * 1. Rotation accuracy: the real daemon parts on the real bleno over a virtual HCI controller,
 *    period_s 10, real wall-clock scheduling (no fake timers). For each window boundary, the
 *    delay until LE Set Advertising Data carrying the new window reached the controller, from
 *    the controller's own timestamped command log. Target p99 < 50 ms.
 * 2. Outbox drain rate: N queued events in a WAL SQLite file, drained by the MQTT link (QoS 1,
 *    delete on PUBACK) to aedes over loopback TCP. Target >= 2000 events/s.
 * 3. Memory: a long simulated run (many rotations on a stepped clock, each written to the token
 *    log and outbox and drained to the broker), RSS sampled along the way; then the real daemon
 *    process during a live session. Both under plain node from tsc output, with the unit's V8
 *    flag. Target < 80 MB, flat.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { windowEndMs, windowIndex } from '../shared/token.js';
import { uuidv7 } from '../shared/ids.js';
import { createVirtualAwareAdvertiser } from '../gateway/ble/radio.js';
import type { Advertiser } from '../gateway/ble/advertiser.js';
import type { VirtualController } from '../gateway/ble/virtual/controller.js';
import { validateConfig } from '../gateway/config.js';
import { GatewayEvents } from '../gateway/events.js';
import { OutboxDrain } from '../gateway/mqtt/drain.js';
import { MqttLink } from '../gateway/mqtt/link.js';
import { OnAirEncoder } from '../gateway/on-air.js';
import { Rotation } from '../gateway/rotation.js';
import { SessionManager } from '../gateway/sessions.js';
import { openStore } from '../gateway/store/store.js';
import { CloudObserver, startAedes } from '../test/gateway/brokers.js';

const { values } = parseArgs({ options: { boundaries: { type: 'string' }, events: { type: 'string' }, rotations: { type: 'string' }, 'steady-seconds': { type: 'string' } } });
const BOUNDARIES = Number(values.boundaries ?? 12);
const EVENTS = Number(values.events ?? 20_000);
const ROTATIONS = Number(values.rotations ?? 200_000);
const STEADY_S = Number(values['steady-seconds'] ?? 300);
const PERIOD_S = 10;
const REPO = fileURLToPath(new URL('..', import.meta.url));
const SECRET = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'gw-bench-'));
const config = validateConfig({ gateway_id: 'bench-101', room_code: 74565, room_secret: SECRET, mqtt_url: 'mqtt://127.0.0.1:1' });
const encoder = new OnAirEncoder(config);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rotationAccuracy(advertiser: Advertiser, controller: VirtualController) {
  const events = new GatewayEvents(log);
  const store = openStore(join(dir, 'rotation.db'), config.gatewayId, 'att/v1', { events });
  const sessions = new SessionManager({ store, events, roomCode: config.roomCode, log });
  const rotation = new Rotation({ store, events, sessions, advertiser, encoder, idleFrame: () => false, log });
  rotation.start();
  const sessionId = uuidv7();
  sessions.start({ id: sessionId, courseId: 'BENCH', periodS: PERIOD_S, endsAt: null, source: 'gateway' }, Date.now());
  const first = windowIndex(Date.now(), PERIOD_S) + 1;
  const boundaries = Array.from({ length: BOUNDARIES }, (_, i) => windowEndMs(first - 1 + i, PERIOD_S));
  process.stdout.write(`rotation accuracy: ${BOUNDARIES} boundaries of ${PERIOD_S} s (about ${Math.ceil((boundaries.at(-1)! - Date.now()) / 1000)} s)`);
  while (Date.now() < boundaries.at(-1)! + 500) {
    await sleep(1000);
    process.stdout.write('.');
  }
  process.stdout.write('\n');
  rotation.stop();
  const entries = controller.advertisingLog().filter((e) => e.command === 'LeSetAdvertisingData');
  const delays = boundaries.map((b, i) => {
    const want = encoder.sessionPayload(sessionId, first + i).advertisingData;
    const hit = entries.find((e) => e.at >= b - 5 && e.parameters.subarray(1, 1 + want.length).equals(want));
    if (!hit) throw new Error(`no advertising data for window ${first + i} reached the controller`);
    return hit.at - b;
  });
  store.close();
  const sorted = [...delays].sort((a, b) => a - b);
  return { samples: delays.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)! };
}

async function drainRate() {
  const broker = await startAedes();
  const store = openStore(join(dir, 'drain.db'), config.gatewayId, 'att/v1');
  const sessionId = uuidv7();
  store.transaction(() => {
    for (let i = 0; i < EVENTS; i++) {
      const now = Date.now();
      store.outbox.append('token.rotated', { session_id: sessionId, w: i, advertised_at: new Date(now).toISOString() }, now);
    }
  });
  const events = new GatewayEvents(log);
  const drain = new OutboxDrain({ store, events, log });
  const link = new MqttLink(
    { url: broker.url, gatewayId: config.gatewayId, topicPrefix: 'att/v1', username: 'bench-101', password: undefined, ca: undefined, version: 'bench' },
    { drain, events, log },
  );
  const started = performance.now();
  link.start();
  while (store.outbox.depth() > 0) await sleep(5);
  const seconds = (performance.now() - started) / 1000;
  await link.stop();
  store.close();
  await broker.close();
  return { events: EVENTS, seconds, perSecond: EVENTS / seconds };
}

/** The V8 flag systemd/attendance-gateway.service gives the daemon (NODE_OPTIONS). */
const DAEMON_NODE_FLAGS = ['--max-semi-space-size=1', '--v8-pool-size=1'];

/**
 * Compiles the project with tsc into node_modules/.cache (so native modules resolve) and returns
 * the output directory: the memory figures are for plain node, as in production.
 */
function compile(): string {
  const out = join(REPO, 'node_modules', '.cache', 'attendance-gateway-bench');
  const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO, 'tsconfig.json'), '--noEmit', 'false', '--outDir', out, '--sourceMap', 'false'], {
    cwd: REPO,
    encoding: 'utf8',
  });
  // tsc -p checks the whole project; others' work in progress may not type-check, but tsc still
  // emits every file, and only the gateway's files are run here.
  if (!existsSync(join(out, 'bench', 'gateway-memory.js'))) throw new Error(`tsc emitted nothing: ${tsc.stdout}`);
  // Outside a package scope node would read the emitted ESM as CommonJS.
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  return out;
}

/** Runs bench/gateway-memory.ts (compiled) in its own process against a broker in this one. */
async function memoryRun(out: string) {
  const broker = await startAedes();
  // Asynchronously: the broker in this process must keep serving the child.
  // With the V8 flag systemd/attendance-gateway.service gives the daemon.
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, join(out, 'bench', 'gateway-memory.js'), '--url', broker.url, '--rotations', String(ROTATIONS)], { cwd: REPO });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  await broker.close();
  if (code !== 0) throw new Error(`memory run failed (${code}): ${stderr}`);
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { rotations: number; delivered: number; samples: Array<{ rotations: number; rssMb: number }>; afterRunMb: number[] };
  const half = result.samples[Math.floor(result.samples.length / 2) - 1]!;
  const last = result.samples.at(-1)!;
  return { ...result, maxMb: Math.max(...result.samples.map((x) => x.rssMb)), growthSecondHalfMb: last.rssMb - half.rssMb };
}

/** RSS of the real daemon process (`attendance-gateway run --radio virtual`) during a live session. */
async function daemonSteadyState(out: string) {
  const broker = await startAedes();
  const configPath = join(dir, 'steady.json');
  writeFileSync(
    configPath,
    JSON.stringify({ gateway_id: 'bench-steady', room_code: 74565, room_secret: SECRET, mqtt_url: broker.url, db_path: join(dir, 'steady.db'), heartbeat_s: 5, log_level: 'warn' }),
  );
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, join(out, 'gateway', 'cli.js'), 'run', '--config', configPath, '--radio', 'virtual'], { cwd: REPO, stdio: 'ignore' });
  const cloud = await CloudObserver.connect(broker.url, 'att/v1', 'bench-steady');
  await cloud.waitFor((o) => o.statuses.some((x) => x.state === 'online'), 30_000, 'the daemon online');
  await cloud.sendCommand('att/v1', 'bench-steady', { id: uuidv7(), type: 'session.start', at: new Date().toISOString(), data: { session_id: uuidv7(), course_id: 'BENCH', period_s: PERIOD_S } });
  const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
  const samples: number[] = [];
  process.stdout.write(`daemon process during a live session (${STEADY_S} s)`);
  for (let t = 0; t < STEADY_S; t += 10) {
    await sleep(10_000);
    samples.push(rssMb());
    process.stdout.write('.');
  }
  process.stdout.write('\n');
  const rotations = cloud.distinct().filter((e) => e.type === 'token.rotated').length;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await cloud.close();
  await broker.close();
  const half = samples[Math.floor(samples.length / 2) - 1]!;
  return { samples, rotations, maxMb: Math.max(...samples), growthSecondHalfMb: samples.at(-1)! - half };
}

const { advertiser, controller } = createVirtualAwareAdvertiser({ kind: 'virtual', logger: log, virtual: { airIntervalMs: 1000 } });
await advertiser.start();
while (advertiser.health().state !== 'poweredOn') await sleep(10);

const rot = await rotationAccuracy(advertiser, controller!);
console.log(`  boundary -> controller: p50 ${rot.p50.toFixed(2)} ms, p99 ${rot.p99.toFixed(2)} ms, max ${rot.max.toFixed(2)} ms (${rot.samples} boundaries; target p99 < 50 ms)`);
const dr = await drainRate();
console.log(`outbox drain to aedes over loopback: ${dr.events} events in ${dr.seconds.toFixed(2)} s = ${Math.round(dr.perSecond)} events/s (target >= 2000)`);
const out = compile();
const mem = await memoryRun(out);
console.log(`memory over ${mem.rotations} simulated rotations (${mem.delivered} events delivered), RSS: ${mem.samples.map((s) => s.rssMb.toFixed(1)).join(' ')} MB`);
console.log(`  during the run: max RSS ${mem.maxMb.toFixed(1)} MB, growth over the second half ${mem.growthSecondHalfMb.toFixed(1)} MB`);
console.log(`  after the run, idle with the outbox drained, every 10 s: ${mem.afterRunMb.map((x) => x.toFixed(1)).join(' ')} MB (target < 80 MB, flat)`);
const steady = await daemonSteadyState(out);
console.log(`  RSS every 10 s: ${steady.samples.map((x) => x.toFixed(1)).join(' ')} MB (${steady.rotations} rotations delivered)`);
console.log(`  max RSS ${steady.maxMb.toFixed(1)} MB, growth over the second half ${steady.growthSecondHalfMb.toFixed(1)} MB (target < 80 MB, flat)`);

await advertiser.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
