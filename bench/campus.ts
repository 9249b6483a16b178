/**
 * A simulated university on this machine: two cloud instances (child processes) on one fresh
 * PostgreSQL schema and an MQTT broker (its own Mosquitto unless --mqtt names one) with a shared subscription, a gateway connection
 * per room, a teaching hour's sessions started together, the students' check-ins spread over six
 * minutes, the end of class — then throughput, latency, errors, CPU per request and what was
 * lost. `--kill`: the same with one instance killed (SIGKILL) halfway through the check-ins and started again.
 * Counts scale with --scale (1 = 2,000 rooms, 60,000 students, 1,000 sessions, 35,000 check-ins).
 *
 *   node --import tsx bench/campus.ts [--scale 0.05] [--database postgres://…] [--mqtt mqtt://host:port] [--minutes 6] [--instances 2] [--kill] [--restart-after 5]
 */
import { parseArgs } from 'node:util';
import { FULL } from './campus/plan.js';
import { runCampus, type CampusReport } from './campus/run.js';
import { table } from './campus/stats.js';

const { values } = parseArgs({ options: {
  scale: { type: 'string', default: '0.05' }, database: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' }, mqtt: { type: 'string' },
  minutes: { type: 'string', default: String(FULL.checkinSeconds / 60) }, kill: { type: 'boolean', default: false }, instances: { type: 'string', default: '2' }, 'restart-after': { type: 'string', default: '5' },
} });

export function formatReport(r: CampusReport): string {
  const p = r.plan;
  return [
    `${p.rooms} rooms, ${p.courses} courses, ${p.students} students, ${p.sessions} sessions, ${p.checkins} check-ins, ${r.instances} instances${r.killed ? '; one killed (SIGKILL) halfway through the check-ins' : ''}`,
    '',
    table(['request', 'count', 'p50 ms', 'p99 ms', 'outcomes'], r.requests.map((q) => [q.type, q.count, q.p50.toFixed(1), q.p99.toFixed(1), Object.entries(q.outcomes).map(([k, v]) => `${k}: ${v}`).join(', ')])),
    '',
    table(['phase', 'seconds', 'HTTP requests', 'req/s', 'cloud CPU ms/request'], r.phases.map((f) => [f.phase, f.seconds.toFixed(1), f.requests, f.throughput.toFixed(0), f.cpuMsPerRequest.toFixed(2)])),
    '',
    `requests moved to the other instance after a connection error: ${r.retried}`,
    `gateway events acknowledged by the broker: ${r.events.acked}, ingested: ${r.events.ingested}, lost: ${r.events.lost}${r.events.lost ? ` ${JSON.stringify(r.events.lostTypes)}` : ''}`,
    ...(r.brokerDrops === null ? [] : [`the broker's log: ${r.brokerDrops} notices of dropped messages`]),
    `submissions answered 200: ${r.submissions.accepted}, rows: ${r.submissions.stored}, answered but missing: ${r.submissions.lost}, rows no client saw answered: ${r.submissions.rowsBeyondAccepted}`,
  ].join('\n');
}

const report = await runCampus({
  scale: Number(values.scale), postgresUrl: values.database!, ...(values.mqtt ? { mqttUrl: values.mqtt } : {}), checkinSeconds: Number(values.minutes) * 60, instances: Number(values.instances),
  ...(values.kill ? { kill: { restartAfterS: Number(values['restart-after']) } } : {}),
  log: (line) => console.error(`${(performance.now() / 1000).toFixed(1).padStart(6)} s  ${line}`),
});
console.log(formatReport(report));
