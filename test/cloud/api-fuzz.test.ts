/**
 * The API under random requests, generated from its own OpenAPI document: for every operation a
 * fixed number of cases from a fixed seed — bodies valid and broken, path and query parameters
 * real and absurd, wrong content types, gzip garbage, no login or a student's, teacher's or
 * admin's token. Whatever arrives, the answer is never a 5xx, and every error is the documented
 * `{error: {code, message}}` with a status the operation documents (or one any route may give).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { setupCourse, type CourseFixture, type TestUser } from '../helpers/fixtures.js';
import { listenRaw, type RawAnswer, type RawServer } from '../helpers/raw-http.js';
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

interface Failure {
  request: string;
  status: number;
  body: string;
  why: string;
}

let h: CloudHarness;
let f: CourseFixture;
/** A teacher and a live session for the cases to name; the fixture's teacher is an actor. */
let otherTeacher: TestUser;
let sessionId: string;
let server: RawServer;
let paths: Record<string, Record<string, Operation>>;

beforeAll(async () => {
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 2 });
  const started = await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId });
  expect(started.status).toBe(201);
  sessionId = started.body.session_id;
  otherTeacher = await h.user('teacher');
  paths = (await h.http().get('/api/v1/openapi.json')).body.paths;
  server = await listenRaw(h);
});
afterAll(async () => {
  await server.close();
  await h.close();
});

/** Ids the cases draw from: the fixture's, and every id a 2xx answer has shown so far (never an actor's). */
function learnIds(ids: Set<string>, value: unknown, actors: ReadonlySet<string>): void {
  if (Array.isArray(value)) for (const v of value) learnIds(ids, v, actors);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string' && /(^|_)id$/.test(k) && /^[0-9a-f-]{36}$/.test(v)) {
        if (!actors.has(v)) ids.add(v);
      } else learnIds(ids, v, actors);
    }
  }
}

type Actors = Record<'student' | 'teacher' | 'admin', { Authorization: string }>;

/**
 * The actors' tokens, issued anew for every case with the account's current token version: a
 * case may log an actor out everywhere, and the next case should still be able to act as it
 * (their ids are kept out of the pool, so no case deactivates one or changes its role).
 */
async function actorTokens(): Promise<Actors> {
  const people = { student: f.students[0]!, teacher: f.teacher, admin: f.admin };
  const rows = await h.store.db.selectFrom('users').selectAll().where('id', 'in', Object.values(people).map((p) => p.id)).execute();
  const versionOf = (id: string) => Number((rows.find((r) => r.id === id) as { token_version?: number } | undefined)?.token_version ?? 0);
  const auth = async (role: keyof Actors) => {
    const { token } = await h.deps.tokens.issue({ id: people[role].id, role, token_version: versionOf(people[role].id) });
    return { Authorization: `Bearer ${token}` };
  };
  return { student: await auth('student'), teacher: await auth('teacher'), admin: await auth('admin') };
}

/** Mostly a role the operation admits (its description says which), else any other or none. */
function authHeader(op: Operation, rng: Rng, byRole: Actors): Record<string, string> {
  const admitted = Object.entries(byRole).filter(([role]) => new RegExp(`Roles: [^.]*\\b${role}\\b`).test(op.description ?? '')).map(([, auth]) => auth);
  if (admitted.length && rng.chance(0.6)) return rng.pick(admitted);
  return rng.pick([
    {}, ...Object.values(byRole),
    { Authorization: 'Bearer not.a.jwt' }, { Authorization: 'Basic YWRtaW46YWRtaW4=' }, { Authorization: `Bearer ${'x'.repeat(5000)}` },
  ]);
}

function buildCase(method: string, template: string, op: Operation, rng: Rng, ids: readonly string[], actors: Actors) {
  let url = template;
  const query = new URLSearchParams();
  for (const p of op.parameters ?? []) {
    if (p.in === 'path') url = url.replace(`{${p.name}}`, pathValue(rng, ids));
    else if (p.required ? rng.chance(0.9) : rng.chance(0.5)) query.set(p.name, queryValue(p.schema, p.name, rng, ids));
  }
  if (rng.chance(0.1)) query.set(rng.pick(['format', 'limit', 'x']), rng.pick(['csv', '-1', '9999-12-31', '']));
  const qs = query.toString();
  const headers: Record<string, string> = { ...authHeader(op, rng, actors), ...(rng.chance(0.15) ? { Accept: rng.pick(['text/csv', 'application/xml', '*/*']) } : {}) };
  const schema = op.requestBody?.content['application/json']?.schema;
  let bytes: Buffer | undefined;
  if (schema || (method !== 'get' && rng.chance(0.3))) {
    const encoded = encodeBody(bodyFor(schema ?? {}, rng, ids), rng);
    bytes = encoded.bytes;
    Object.assign(headers, encoded.headers);
  }
  return { url: qs ? `${url}?${qs}` : url, headers, bytes };
}

function check(op: Operation, answer: RawAnswer): string | null {
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
    const actors = new Set([f.students[0]!.id, f.teacher.id, f.admin.id]);
    const ids = new Set<string>([f.courseId, f.roomId, f.students[1]!.id, otherTeacher.id, sessionId]);
    const failures: Failure[] = [];
    const statuses = new Map<number, number>();
    let cases = 0;
    const operations = Object.entries(paths).flatMap(([template, ops]) => Object.entries(ops).map(([method, op]) => ({ method, template, op })));
    for (const { method, template, op } of operations) {
      for (let i = 0; i < CASES_PER_OPERATION; i++) {
        const c = buildCase(method, template, op, rng, [...ids], await actorTokens());
        const answer = await server.send(method, c.url, c.headers, c.bytes);
        cases++;
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status < 300 && answer.type.startsWith('application/json') && answer.body) learnIds(ids, JSON.parse(answer.body), actors);
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
