/**
 * GATT check-in benchmark (bench/README.md, "GATT check-in"). Run:
 *   node --import tsx bench/checkin.ts [--phones N] [--checkins N] [--burst N] [--burst-phones N] [--advertising-ms MS] [--retry-jitter-ms MS]
 *
 * One gateway daemon in its own process (bench/checkin-gateway.ts) on the virtual radio, and
 * phones made of the real noble in this process (bench/checkin-phones.ts). Every check-in uses a
 * key of its own (the gateway takes a key once per window, so a key checking in again would be a
 * `duplicate`). Measured end to end: connect, read the challenge, write, receipt `queued`,
 * disconnect, and the checkin.received event that reached the broker from the outbox.
 * 1. Throughput: `--checkins` check-ins by 1 phone one after the other, then by `--phones`
 *    concurrent phones (each on its own link: the gateway serves several at once). Target >= 50/s.
 * 2. Memory: a burst of `--burst` distinct keys by `--burst-phones` concurrent phones; the
 *    gateway's RSS (from /proc) every 100 ms during it and every second for 20 s after. Target < 80 MB.
 * `--advertising-ms` sets bleno's advertising interval (default 20 ms, as the gateway's systemd
 * unit sets it; bleno's own default is 100 ms), to see how much of a check-in is the phone waiting
 * for the gateway's next advertising event. After a failed link a phone waits as the app
 * does (CHECKIN_RETRY_BACKOFF: 50 ms doubling to 1 s, ±50 %); `--retry-jitter-ms MS` makes it wait a
 * random 0..MS ms instead (0: at once).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { hostVirtualAir } from '../gateway/ble/radio.js';
import { startAedes } from '../test/gateway/brokers.js';
import { GatewayUnderTest, compileGateway } from './checkin-gateway.js';
import { CheckinPhone, STAGES, newCheckinKey, type CheckinKey, type CheckinResult, type RetryPause, type Stages } from './checkin-phones.js';

/** Bad arguments: say what is wrong and exit 2, as a command-line tool does (no stack trace). */
function usage(message: string): never {
  console.error(`bench/checkin.ts: ${message}`);
  process.exit(2);
}
const options = { phones: { type: 'string' }, checkins: { type: 'string' }, burst: { type: 'string' }, 'burst-phones': { type: 'string' }, 'advertising-ms': { type: 'string' }, 'retry-jitter-ms': { type: 'string' } } as const;
let parsed: ReturnType<typeof parseArgs<{ options: typeof options }>>;
try {
  parsed = parseArgs({ options });
} catch (e) {
  usage((e as Error).message);
}
const { values } = parsed;
const integer = (name: string, raw: string | undefined, fallback: number, min: number, max: number): number => {
  const n = Number(raw ?? fallback);
  if (!Number.isInteger(n) || n < min || n > max) usage(`--${name} must be an integer from ${min} to ${max}, got ${raw}`);
  return n;
};
// Phones are the virtual controllers hci1..hci200 of this process.
const PHONES = integer('phones', values.phones, 10, 1, 200);
const CHECKINS = integer('checkins', values.checkins, 100, 1, 10_000);
const BURST = integer('burst', values.burst, 300, 1, 10_000);
const BURST_PHONES = integer('burst-phones', values['burst-phones'], 30, 1, 200);
const RETRY: RetryPause = values['retry-jitter-ms'] === undefined ? 'app' : integer('retry-jitter-ms', values['retry-jitter-ms'], 0, 0, 10_000);
// The range of LE Set Advertising Parameters' Advertising_Interval (20 ms to 10.24 s).
const ADVERTISING_MS = integer('advertising-ms', values['advertising-ms'], 20, 20, 10_240);
const ROOM_CODE = 74565;
const PERIOD_S = 300;

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'checkin-bench-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Run {
  label: string;
  checkins: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  retries: number;
  notQueued: number;
  /** Check-ins a phone gave up on after its attempts ran out (each failed link, retried). */
  gaveUp: number;
  rows: number;
  twice: number;
  /** Share of the run during which a phone's link to the gateway was up. */
  linkBusy: number;
  /** From one check-in's link gone to the next one's link up (the gateway serving no one): p50, p90 ms, and their sum's share of the run. */
  gap: { p50: number; p90: number; share: number };
  /** Why the retried links failed, with counts. */
  failures: Map<string, number>;
  /** Median of each stage of the attempts that got their receipt. */
  stages: Stages;
}

/** `keys` checked in by `phones` concurrently, each phone taking the next key when it is done. */
async function run(label: string, gateway: GatewayUnderTest, phones: CheckinPhone[], keys: CheckinKey[]): Promise<Run> {
  const before = gateway.checkins().length;
  const queue = [...keys];
  const results: CheckinResult[] = [];
  let gaveUp = 0;
  const started = performance.now();
  await Promise.all(
    phones.map(async (phone) => {
      for (let key = queue.shift(); key; key = queue.shift()) {
        // A phone that runs out of attempts is a failed check-in of this run, not the end of the bench.
        const result = await phone.checkIn(key, ROOM_CODE, RETRY).catch(() => null);
        if (result) results.push(result);
        else gaveUp++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const wanted = new Set(keys.map((k) => k.keyId.toString('hex')));
  // Every queued check-in must reach the broker from the outbox; give the drain a moment (one
  // that never arrives shows as fewer outbox rows than check-ins in the table).
  await gateway.cloud.waitFor(() => gateway.checkins().length - before >= keys.length, 10_000, `${keys.length} checkin.received events`).catch(() => undefined);
  const rows = gateway.checkins().slice(before).filter((c) => wanted.has(c.keyId));
  const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
  const median = (stage: keyof Stages) => percentile(results.map((r) => r.stages[stage]).sort((a, b) => a - b), 50);
  return {
    label,
    checkins: results.length,
    seconds,
    perSecond: results.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    retries: results.reduce((n, r) => n + r.retries, 0),
    notQueued: results.filter((r) => r.receipt.status !== 'queued').length,
    gaveUp,
    rows: new Set(rows.map((r) => `${r.keyId}|${r.w}`)).size,
    twice: rows.length - new Set(rows.map((r) => r.keyId)).size,
    gap: gapsOf(results, seconds),
    linkBusy: results.reduce((ms, r) => ms + (r.linkDown - r.linkUp), 0) / 1000 / seconds,
    failures: results.flatMap((r) => r.failures).reduce((m, f) => m.set(f, (m.get(f) ?? 0) + 1), new Map<string, number>()),
    stages: Object.fromEntries(STAGES.map((stage) => [stage, median(stage)])) as unknown as Stages,
  };
}

function gapsOf(results: CheckinResult[], seconds: number): Run['gap'] {
  const links = [...results].sort((a, b) => a.linkUp - b.linkUp);
  const gaps = links.slice(1).map((r, i) => Math.max(0, r.linkUp - links[i]!.linkDown)).sort((a, b) => a - b);
  if (gaps.length === 0) return { p50: 0, p90: 0, share: 0 };
  return { p50: percentile(gaps, 50), p90: percentile(gaps, 90), share: gaps.reduce((a, b) => a + b, 0) / 1000 / seconds };
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const line of [header, ...rows]) console.log(line.map((c, i) => c.padStart(widths[i]!)).join('  '));
}

const broker = await startAedes();
const hub = await hostVirtualAir(`unix:${join(dir, 'air.sock')}`, log);
process.stdout.write('compiling the gateway with tsc... ');
const cli = compileGateway();
console.log('done');
const gateway = await GatewayUnderTest.start({ cli, dir, brokerUrl: broker.url, airAddress: hub.address!, gatewayId: 'bench-checkin', roomCode: ROOM_CODE, roomSecret: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  advertisingIntervalMs: ADVERTISING_MS,
});
try {
  await gateway.startSession(PERIOD_S);
  const idleMb = gateway.rssMb();
  const phones: CheckinPhone[] = [];
  for (let n = 1; n <= Math.max(PHONES, BURST_PHONES); n++) phones.push(await CheckinPhone.start(n, hub.address!, log));
  const keys = (count: number) => Array.from({ length: count }, newCheckinKey);

  const runs: Run[] = [];
  console.log(`throughput: ${CHECKINS} check-ins by 1 phone, then by ${PHONES} phones`);
  runs.push(await run('1 phone', gateway, phones.slice(0, 1), keys(CHECKINS)));
  runs.push(await run(`${PHONES} phones`, gateway, phones.slice(0, PHONES), keys(CHECKINS)));

  console.log(`memory: a burst of ${BURST} students, ${BURST_PHONES} phones at a time`);
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(gateway.rssMb()), 100);
  runs.push(await run(`burst ${BURST} / ${BURST_PHONES} phones`, gateway, phones.slice(0, BURST_PHONES), keys(BURST)));
  clearInterval(sampler);
  const after: number[] = [];
  for (let t = 0; t < 20; t++) {
    await sleep(1000);
    after.push(gateway.rssMb());
  }
  table(
    ['run', 'check-ins', 's', 'check-ins/s', 'p50 ms', 'p99 ms', 'retries', 'gave up', 'not queued', 'outbox rows', 'rows twice'],
    runs.map((r) => [r.label, r.checkins, r.seconds.toFixed(1), r.perSecond.toFixed(1), r.p50.toFixed(0), r.p99.toFixed(0), r.retries, r.gaveUp, r.notQueued, r.rows, r.twice].map(String)),
  );
  console.log('where the time goes: median ms per stage of the attempt that got its receipt');
  table(
    ['run', ...STAGES, 'link up %', 'gap p50', 'gap p90', 'gaps %'],
    runs.map((r) => [r.label, ...STAGES.map((s) => r.stages[s].toFixed(1)), (100 * r.linkBusy).toFixed(0), r.gap.p50.toFixed(1), r.gap.p90.toFixed(1), (100 * r.gap.share).toFixed(0)]),
  );
  for (const r of runs) console.log(`${r.label}: retried links failed with ${[...r.failures].map(([f, n]) => `${n}× "${f}"`).join(', ') || 'nothing'}`);
  console.log(`target >= 50 check-ins/s: ${runs.every((r) => r.perSecond >= 50) ? 'met' : 'NOT met'}`);
  console.log(`gateway RSS: idle ${idleMb.toFixed(1)} MB, peak during the burst ${Math.max(...samples).toFixed(1)} MB, after it (every 5 s) ${after.filter((_, i) => i % 5 === 4).map((x) => x.toFixed(1)).join(' ')} MB (target < 80 MB)`);
} finally {
  await gateway.stop();
  await hub.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
