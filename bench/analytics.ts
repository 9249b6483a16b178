/**
 * Analytics latency for one course on a semester of a large faculty, at the base size and at
 * four times that size: `node --import tsx bench/analytics.ts [--runs 300] [--database postgres://…]`.
 * With `--database` the two databases are fresh schemas of that PostgreSQL database (created,
 * filled with the same generated rows, and dropped by the bench); by default SQLite files.
 *
 * One "faculty" = 10,000 students, 100 teachers, 400 courses of 60 students, 200 rooms, two
 * 90-minute sessions a week for 14 weeks (11,200 sessions, 672,000 attendance records). The base
 * database holds one faculty; the 4× database is a copy of it with three more faculties. Both
 * are served by the real app over HTTP on 127.0.0.1 and the same course of the first faculty
 * is timed on each, alternately: if the queries follow the course (index-driven), the 4×/1×
 * ratio stays near 1.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import SqliteDatabase from 'better-sqlite3';
import { openStore } from '../cloud/store/db.js';
import { migrateToLatest } from '../cloud/store/migrate.js';
import { studentStatusCountsQuery, sessionStatusCountsQuery } from '../cloud/store/analytics.js';
import { localDateRange } from '../cloud/domain/analytics-calendar.js';
import { createCloudHarness, testDatabase } from '../test/helpers/cloud.js';
import { generateFaculty, TERM, type FacultyIds } from './analytics-data.js';
import { copyToPostgres, explainPostgres } from './analytics-postgres.js';

const TZ = 'Europe/Berlin';
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 300;
if (!Number.isInteger(runs) || runs < 10) throw new Error('--runs must be an integer >= 10');
const databaseArg = process.argv.indexOf('--database');
const postgresUrl = databaseArg > 0 ? process.argv[databaseArg + 1] : undefined;

interface Timing {
  median: number;
  p95: number;
}

const summary = (ms: number[]): Timing => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, p95: sorted[Math.floor(sorted.length * 0.95)]! };
};

/**
 * Times one URL on both servers, alternating which goes first, so load from other processes on
 * this 2-core machine falls on both sizes alike instead of skewing their ratio.
 */
async function timePair(bases: [string, string], auth: string, name: string, url: string): Promise<[Timing, Timing]> {
  const call = async (base: string) => {
    const t = process.hrtime.bigint();
    const res = await fetch(base + url, { headers: { Authorization: auth } });
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  for (let i = 0; i < 30; i++) await Promise.all([call(bases[0]), call(bases[1])]);
  const ms: [number[], number[]] = [[], []];
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const k of order) ms[k]!.push(await call(bases[k]!));
  }
  return [summary(ms[0]), summary(ms[1])];
}

function endpoints(f: FacultyIds) {
  const c = f.courseIds[0]!;
  return [
    ['attendance_percentage (semester)', `/api/v1/teacher/analytics/attendance_percentage?course_id=${c}&period=semester`],
    ['attendance_percentage (month, CSV)', `/api/v1/teacher/analytics/attendance_percentage?course_id=${c}&month=2026-10&format=csv`],
    ['daily_class_report (course)', `/api/v1/teacher/analytics/daily_class_report?course_id=${c}&date=${f.firstClassDay}`],
    ['daily_class_report (all my courses)', `/api/v1/teacher/analytics/daily_class_report?date=${f.firstClassDay}`],
    ['attendance_trends (98 days, day)', `/api/v1/teacher/analytics/attendance_trends?course_id=${c}&from=${TERM.from}&to=${TERM.to}`],
    ['attendance_trends (98 days, week)', `/api/v1/teacher/analytics/attendance_trends?course_id=${c}&from=${TERM.from}&to=${TERM.to}&bucket=week`],
  ] as const;
}

function explain(native: SqliteDatabase.Database, compiled: { sql: string; parameters: readonly unknown[] }): string {
  const rows = native.prepare(`explain query plan ${compiled.sql}`).all(...(compiled.parameters as unknown[])) as Array<{ detail: string }>;
  return rows.map((r) => r.detail).join(' | ');
}

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; base: string }> {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function describeDb(native: SqliteDatabase.Database, file: string): string {
  const counts = native.prepare("select (select count(*) from users where role = 'student') as students, (select count(*) from courses) as courses, (select count(*) from sessions) as sessions, (select count(*) from attendance) as records").get();
  return `${JSON.stringify(counts)}, ${(fs.statSync(file).size / 1e6).toFixed(0)} MB`;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-bench-analytics-'));
  const files = [path.join(dir, 'base.db'), path.join(dir, 'four.db')] as const;

  // 1x: one faculty. 4x: a copy of it plus three more, so the timed course is the same row data.
  const base = openStore(`sqlite:${files[0]}`);
  await migrateToLatest(base);
  let native = new SqliteDatabase(files[0]);
  let t0 = Date.now();
  const first = generateFaculty(native, 0, TZ);
  native.exec('analyze');
  console.log(`1x: ${describeDb(native, files[0])}, generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  native.pragma('wal_checkpoint(TRUNCATE)');
  native.close();
  await base.close();
  fs.copyFileSync(files[0], files[1]);
  native = new SqliteDatabase(files[1]);
  native.pragma('journal_mode = WAL');
  t0 = Date.now();
  for (let f = 1; f < 4; f++) generateFaculty(native, f, TZ);
  native.exec('analyze');
  console.log(`4x: ${describeDb(native, files[1])}, generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // On PostgreSQL: a migrated schema per size, holding the same rows as its SQLite file.
  const databases = await Promise.all(files.map(async (file) => {
    if (!postgresUrl) return { url: `sqlite:${file}`, drop: async () => {} };
    const database = await testDatabase(dir, postgresUrl);
    const store = openStore(database.url);
    await migrateToLatest(store);
    await store.close();
    return database;
  }));
  if (postgresUrl) {
    t0 = Date.now();
    native.close();
    for (const [k, file] of files.entries()) {
      native = new SqliteDatabase(file, { readonly: true });
      await copyToPostgres(native, databases[k]!.url);
      native.close();
    }
    native = new SqliteDatabase(files[1]);
    console.log(`copied both into PostgreSQL schemas in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  // Two clouds composed as the process composes itself, one per database, signing with one key.
  const env = (k: 0 | 1) => ({ DATABASE_URL: databases[k]!.url, ATTENDANCE_TIMEZONE: TZ, ATTENDANCE_OPEN_REGISTRATION: 'false', ATTENDANCE_JWT_SECRET_FILE: path.join(dir, 'jwt-secret') });
  const clouds = [await createCloudHarness({ env: env(0) }), await createCloudHarness({ env: env(1) })] as const;
  const [h] = clouds;
  const stores = [clouds[0].store, clouds[1].store] as const;
  const servers = [await listen(clouds[0].app.koa.callback()), await listen(clouds[1].app.koa.callback())];
  const auth = `Bearer ${(await h.deps.tokens.issue({ id: first.teacherOfFirstCourse, role: 'teacher' })).token}`;

  const range = localDateRange(TERM.from, TERM.to, TZ);
  const plan = (compiled: { sql: string; parameters: readonly unknown[] }) => (postgresUrl ? explainPostgres(databases[1]!.url, compiled) : explain(native, compiled));
  console.log(`\nquery plans at 4x (${postgresUrl ? 'PostgreSQL' : 'SQLite'}, after ANALYZE):`);
  console.log('  per-student counts:', await plan(studentStatusCountsQuery(stores[1].db, first.courseIds[0]!, range).compile()));
  console.log('  per-session counts:', await plan(sessionStatusCountsQuery(stores[1].db, [first.courseIds[0]!], range).compile()));

  console.log(`\nper-course latency over HTTP on 127.0.0.1, ${runs} alternating runs each (ms):\n`);
  console.log('| endpoint | 1x median | 1x p95 | 4x median | 4x p95 | 4x/1x median |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [name, url] of endpoints(first)) {
    const [one, four] = await timePair([servers[0]!.base, servers[1]!.base], auth, name, url);
    console.log(`| ${name} | ${one.median.toFixed(2)} | ${one.p95.toFixed(2)} | ${four.median.toFixed(2)} | ${four.p95.toFixed(2)} | ${(four.median / one.median).toFixed(2)} |`);
  }

  for (const { server } of servers) {
    server.closeAllConnections();
    server.close();
  }
  native.close();
  for (const c of clouds) await c.close();
  for (const d of databases) await d.drop();
  fs.rmSync(dir, { recursive: true, force: true });
}

await main();
