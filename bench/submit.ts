/**
 * Throughput and latency of POST /api/v1/student/token/submit (JWT auth + zod validation +
 * token check + insert, on SQLite or with `--database postgres://…` on a fresh schema of that
 * PostgreSQL database, created and dropped by the server) against a bare Koa JSON handler measured
 * in the same run, each server in its own child process, the same closed-loop load generator for both.
 *
 *   node --import tsx bench/submit.ts [--database postgres://…] [--only full|bare] [--rounds 3] [--duration 5] [--concurrency 64] [--students 2000] [--rooms 100]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { deriveSessionKey, tokenForWindow, windowIndex } from '../shared/token.js';
import { encodeFrame } from '../shared/frame.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, only: { type: 'string' }, duration: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '64' }, students: { type: 'string', default: '2000' }, rooms: { type: 'string', default: '100' }, database: { type: 'string' } } });
const DURATION_MS = Number(values.duration) * 1000;
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);

interface ServerInfo { port: number; rooms?: Array<{ roomCode: number; roomSecret: string; sessionId: string }>; periodS?: number; auth?: string[] }

async function startServer(mode: 'bare' | 'full') {
  const child = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []), '--import', 'tsx', new URL('./submit-server.ts', import.meta.url).pathname, mode, values.students!, values.rooms!, values.database ?? ''], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Waits for the exit: the full server drops its PostgreSQL schema first.
  return { info: JSON.parse(line) as ServerInfo, stop: () => (child.kill('SIGINT'), exited) };
}

function request(agent: http.Agent, port: number, body: string, auth: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/student/token/submit', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(auth ? { authorization: `Bearer ${auth}` } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      // The outcome: the HTTP status, and for a 200 of the real route whether it was new.
      res.on('end', () => resolve(`${res.statusCode}${text.includes('"duplicate"') ? ' duplicate' : text.includes('"accepted"') && !text.includes('echo') ? ' accepted' : ''}`));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Request counter across rounds, so a later round does not replay an earlier one's windows. */
let next = 0;

async function serverCpu(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/__cpu`);
  return ((await res.json()) as { cpu_us: number }).cpu_us;
}

async function load(info: ServerInfo, label: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  const statuses = new Map<string, number>();
  const keys = (info.rooms ?? []).map((r) => ({ roomCode: r.roomCode, key: deriveSessionKey(Buffer.from(r.roomSecret, 'hex'), r.sessionId) }));
  const students = info.auth?.length ?? 1;
  // Request i goes to student i mod S in room (i div S) mod R: consecutive requests are different
  // students, and a (room, student) pair comes back only after S×R requests.
  const bodyFor = (): { body: string; auth?: string } => {
    const i = next++;
    if (!keys.length) return { body: JSON.stringify({ frame: '01'.repeat(17), rssi: -60 }) };
    const room = keys[Math.floor(i / students) % keys.length]!;
    const w = windowIndex(Date.now(), info.periodS!);
    return { body: JSON.stringify({ frame: encodeFrame({ roomCode: room.roomCode, w, token: tokenForWindow(room.key, w) }).toString('hex'), rssi: -60 }), auth: info.auth![i % students] };
  };
  // Warm up (JIT, SQLite page cache) before measuring.
  const warmEnd = Date.now() + 1500;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (Date.now() < warmEnd) { const b = bodyFor(); await request(agent, info.port, b.body, b.auth); }
  }));
  const cpuBefore = await serverCpu(info.port);
  const start = performance.now();
  const end = Date.now() + DURATION_MS;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (Date.now() < end) {
      const b = bodyFor();
      const t0 = performance.now();
      const status = await request(agent, info.port, b.body, b.auth);
      latencies.push(performance.now() - t0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  const cpuPerRequest = ((await serverCpu(info.port)) - cpuBefore) / latencies.length;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  const result = { label, requests: latencies.length, rps: latencies.length / seconds, p50: pct(0.5), p99: pct(0.99), cpuPerRequest, statuses: Object.fromEntries(statuses) };
  console.log(`${label.padEnd(6)} ${result.rps.toFixed(0).padStart(7)} req/s  p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms  server CPU ${cpuPerRequest.toFixed(0)} µs/req  statuses ${JSON.stringify(result.statuses)}`);
  return result;
}

console.log(`token/submit benchmark on ${values.database ? 'PostgreSQL' : 'SQLite'}: ${CONCURRENCY} concurrent connections, ${ROUNDS} alternating rounds of ${DURATION_MS / 1000} s, ${values.students} students`);
// Both servers stay up and the runs alternate, so a load change on the machine hits both sides.
const bareServer = await startServer('bare');
const fullServer = await startServer('full');
const ratios: number[] = [];
const cpuRatios: number[] = [];
const fullRuns: Array<Awaited<ReturnType<typeof load>>> = [];
for (let round = 0; round < ROUNDS; round++) {
  if (values.only) {
    const only = values.only === 'bare' ? await load(bareServer.info, 'bare') : await load(fullServer.info, 'full');
    if (values.only === 'full') fullRuns.push(only);
    continue;
  }
  const bare = await load(bareServer.info, 'bare');
  const full = await load(fullServer.info, 'full');
  fullRuns.push(full);
  ratios.push(full.rps / bare.rps);
  cpuRatios.push(bare.cpuPerRequest / full.cpuPerRequest);
  const bad = Object.keys(full.statuses).filter((s) => !s.startsWith('200'));
  if (bad.length) console.log(`WARNING: non-200 answers on the full path: ${bad.join(', ')}`);
}
await Promise.all([bareServer.stop(), fullServer.stop()]);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`full path: median ${median(fullRuns.map((r) => r.rps)).toFixed(0)} req/s, median p99 ${median(fullRuns.map((r) => r.p99)).toFixed(1)} ms`);
if (cpuRatios.length) console.log(`CPU-per-request ratio bare/full per round: ${cpuRatios.map((r) => r.toFixed(2)).join(' ')}; median ${median(cpuRatios).toFixed(2)} (the throughput ratio a saturated core would give)`);
if (ratios.length) console.log(`ratio full/bare per round: ${ratios.map((r) => r.toFixed(2)).join(' ')}; median ${median(ratios).toFixed(2)} (target >= 0.40)`);
