/**
 * The dashboard's live panel stream: authenticated by the bearer header, a snapshot at once,
 * another when a student checks in, and closed for other teachers' courses.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAnalyticsWorld, type AnalyticsWorld } from './analytics-fixture.js';
import { MAX_STREAMS_PER_USER } from '../../cloud/dashboard/live-stream.js';

/** Generous: the suite shares two cores with other suites. */
const SLOW = { timeout: 10_000, interval: 50 };

let world: AnalyticsWorld;
let server: http.Server;
let base: string;
beforeAll(async () => {
  world = await buildAnalyticsWorld();
  server = http.createServer(world.h.app.koa.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await world.h.close();
});

type Snapshot = { course_id: string; sessions: Array<{ session_id: string; room_name: string; checked_in: number; enrolled: number }> };

/** Reads `event: snapshot` blocks from an SSE response body. */
async function* snapshots(body: ReadableStream<Uint8Array>): AsyncGenerator<Snapshot> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith('event: snapshot\n')) yield JSON.parse(block.slice(block.indexOf('data: ') + 6));
    }
  }
}

describe('GET /api/v1/teacher/live', () => {
  it('streams the live session counts and pushes a new snapshot when a student checks in', async () => {
    const control = new AbortController();
    const res = await fetch(`${base}/api/v1/teacher/live?course_id=${world.courseId}`, { headers: await world.auth(world.teacher), signal: control.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store, no-transform');
    const stream = snapshots(res.body!);

    const first = (await stream.next()).value as Snapshot;
    expect(first.sessions).toEqual([expect.objectContaining({ session_id: world.sessions.s4, room_name: 'Room 202', checked_in: 1, enrolled: 5 })]);

    world.h.clock.advance(30_000);
    const submit = await world.h.http().post('/api/v1/student/token/submit').set(await world.auth(world.student.ben)).send({ frame: world.liveFrame(world.h.clock()) });
    expect(submit.body.status).toBe('accepted');
    const second = (await stream.next()).value as Snapshot;
    expect(second.sessions[0]).toMatchObject({ checked_in: 2, enrolled: 5 });
    control.abort();
  });

  it('refuses a missing token and another teacher before any stream opens', async () => {
    const anonymous = await fetch(`${base}/api/v1/teacher/live?course_id=${world.courseId}`);
    expect(anonymous.status).toBe(401);
    const other = await fetch(`${base}/api/v1/teacher/live?course_id=${world.courseId}`, { headers: await world.auth(world.otherTeacher) });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('forbidden');
  });

  it('limits open streams per account, and a closed stream frees its place', async () => {
    const auth = await world.auth(world.admin);
    const url = `${base}/api/v1/teacher/live?course_id=${world.courseId}`;
    const controls = Array.from({ length: MAX_STREAMS_PER_USER }, () => new AbortController());
    const open = await Promise.all(controls.map((c) => fetch(url, { headers: auth, signal: c.signal })));
    expect(open.map((r) => r.status)).toEqual(Array(MAX_STREAMS_PER_USER).fill(200));
    const refused = await fetch(url, { headers: auth });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('too_many_streams');
    controls[0]!.abort();
    await expect.poll(async () => {
      const res = await fetch(url, { headers: auth });
      await res.body?.cancel();
      return res.status;
    }, SLOW).toBe(200);
    for (const c of controls) c.abort();
  });
});
