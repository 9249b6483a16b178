/**
 * The API under random requests, generated from its own OpenAPI document: for every operation a
 * fixed number of cases from a fixed seed — bodies valid and broken, path and query parameters
 * real and absurd, wrong content types, gzip garbage, no login or a student's, teacher's or
 * admin's token. Whatever arrives, the answer is never a 5xx, and every error is the documented
 * `{error: {code, message}}` with a status the operation documents (or one any route may give).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { setupCourse, type CourseFixture } from '../helpers/fixtures.js';
import { bodyFor, encodeBody, pathValue, queryValue, seededRng, type JsonSchema, type Rng } from '../helpers/api-fuzz.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20260907);
const CASES_PER_OPERATION = Number(process.env.FUZZ_CASES ?? 30);
/** Statuses any route may answer, documented or not. */
const GENERIC = new Set([400, 401, 403, 404, 405, 413, 415, 429]);

interface Operation {
  description?: string;
  parameters?: Array<{ name: string; in: 'path' | 'query'; required: boolean; schema: JsonSchema }>;
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, unknown>;
}

interface Answer {
  status: number;
  type: string;
  body: string;
}

interface Failure {
  request: string;
  status: number;
  body: string;
  why: string;
}

let h: CloudHarness;
let f: CourseFixture;
let server: http.Server;
let base: string;
let paths: Record<string, Record<string, Operation>>;

beforeAll(async () => {
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 2 });
  const started = await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId });
  expect(started.status).toBe(201);
  paths = (await h.http().get('/api/v1/openapi.json')).body.paths;
  server = http.createServer(h.app.koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await h.close();
});

/** One request over a real socket; a stream (the live dashboard) is read up to its headers only. */
function send(method: string, url: string, headers: Record<string, string>, bytes?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${url}`, { method: method.toUpperCase(), headers: { ...headers, ...(bytes ? { 'Content-Length': String(bytes.length) } : {}) } }, (res) => {
      const type = String(res.headers['content-type'] ?? '');
      if (type.startsWith('text/event-stream')) {
        res.destroy();
        resolve({ status: res.statusCode!, type, body: '' });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, type, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(bytes);
  });
}

/** Ids the cases draw from: the fixture's, and every id a 2xx answer has shown so far. */
function learnIds(ids: Set<string>, value: unknown): void {
  if (Array.isArray(value)) for (const v of value) learnIds(ids, v);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string' && /(^|_)id$/.test(k) && /^[0-9a-f-]{36}$/.test(v)) ids.add(v);
      else learnIds(ids, v);
    }
  }
}

/** Mostly a role the operation admits (its description says which), else any other or none. */
function authHeader(op: Operation, rng: Rng): Record<string, string> {
  const byRole = { student: f.students[0]!.auth, teacher: f.teacher.auth, admin: f.admin.auth };
  const admitted = Object.entries(byRole).filter(([role]) => new RegExp(`Roles: [^.]*\\b${role}\\b`).test(op.description ?? '')).map(([, auth]) => auth);
  if (admitted.length && rng.chance(0.6)) return rng.pick(admitted);
  return rng.pick([
    {}, ...Object.values(byRole),
    { Authorization: 'Bearer not.a.jwt' }, { Authorization: 'Basic YWRtaW46YWRtaW4=' }, { Authorization: `Bearer ${'x'.repeat(5000)}` },
  ]);
}

function buildCase(method: string, template: string, op: Operation, rng: Rng, ids: readonly string[]) {
  let url = template;
  const query = new URLSearchParams();
  for (const p of op.parameters ?? []) {
    if (p.in === 'path') url = url.replace(`{${p.name}}`, pathValue(rng, ids));
    else if (p.required ? rng.chance(0.9) : rng.chance(0.5)) query.set(p.name, queryValue(p.schema, p.name, rng, ids));
  }
  if (rng.chance(0.1)) query.set(rng.pick(['format', 'limit', 'x']), rng.pick(['csv', '-1', '9999-12-31', '']));
  const qs = query.toString();
  const headers: Record<string, string> = { ...authHeader(op, rng), ...(rng.chance(0.15) ? { Accept: rng.pick(['text/csv', 'application/xml', '*/*']) } : {}) };
  const schema = op.requestBody?.content['application/json']?.schema;
  let bytes: Buffer | undefined;
  if (schema || (method !== 'get' && rng.chance(0.3))) {
    const encoded = encodeBody(bodyFor(schema ?? {}, rng, ids), rng);
    bytes = encoded.bytes;
    Object.assign(headers, encoded.headers);
  }
  return { url: qs ? `${url}?${qs}` : url, headers, bytes };
}

function check(op: Operation, answer: Answer): string | null {
  if (answer.status >= 500) return 'a 5xx';
  if (answer.status < 400) return null;
  if (!GENERIC.has(answer.status) && !(String(answer.status) in op.responses)) return `status ${answer.status} is not documented for this operation`;
  if (!answer.type.startsWith('application/json')) return `error answered as ${answer.type || 'no content type'}`;
  let body: { error?: { code?: unknown; message?: unknown } };
  try {
    body = JSON.parse(answer.body);
  } catch {
    return 'error body is not JSON';
  }
  if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string') return 'error body is not {error: {code, message}}';
  return null;
}

describe('the API under generated requests', () => {
  it('never answers 5xx, and every error has the documented shape and a documented status', { timeout: 120_000 }, async () => {
    const rng = seededRng(SEED);
    const ids = new Set<string>([f.courseId, f.roomId, f.teacher.id, f.admin.id, ...f.students.map((s) => s.id)]);
    const failures: Failure[] = [];
    const statuses = new Map<number, number>();
    let cases = 0;
    const operations = Object.entries(paths).flatMap(([template, ops]) => Object.entries(ops).map(([method, op]) => ({ method, template, op })));
    for (const { method, template, op } of operations) {
      for (let i = 0; i < CASES_PER_OPERATION; i++) {
        const c = buildCase(method, template, op, rng, [...ids]);
        const answer = await send(method, c.url, c.headers, c.bytes);
        cases++;
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status < 300 && answer.type.startsWith('application/json') && answer.body) learnIds(ids, JSON.parse(answer.body));
        const why = check(op, answer);
        if (why) {
          const sent = c.bytes ? ` ${JSON.stringify(c.headers)} ${c.bytes.subarray(0, 200).toString('utf8')}` : ` ${JSON.stringify(c.headers)}`;
          failures.push({ request: `${method.toUpperCase()} ${c.url.slice(0, 300)}${sent}`, status: answer.status, body: answer.body.slice(0, 300), why });
        }
      }
    }
    console.log(`api fuzz: seed ${SEED}, ${operations.length} operations, ${cases} cases, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
    expect(operations.length).toBeGreaterThan(30);
    expect(failures).toEqual([]);
  });
});
