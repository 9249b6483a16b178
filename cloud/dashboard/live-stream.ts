/**
 * GET /api/v1/teacher/live?course_id= — the live session panel as server-sent events.
 *
 * Authentication is the ordinary bearer header: the dashboard reads the stream with fetch()
 * (EventSource cannot send headers, and a token in the URL would end up in proxy and access
 * logs). A stream lives at most STREAM_MAX_MS and then closes; the client reconnects with its
 * current token, so an expired or revoked login stops receiving data within that bound.
 *
 * Updates are pushed when this process sees a submission, an override or a session start/end for
 * the course (debounced, so a class submitting at once costs one recomputation), and every
 * REFRESH_MS anyway, which covers events handled by another cloud instance.
 */
import { z } from 'zod';
import type { RouteTable } from '../http/route.js';
import type { AppDeps } from '../http/deps.js';
import { HttpError } from '../http/errors.js';
import { courseForTeacher } from '../http/ownership.js';
import { countByStatus, iso } from '../http/views.js';
import { id } from '../http/schemas.js';
import { computeAttendance } from '../store/attendance.js';
import type { Course } from '../store/schema.js';

export const STREAM_MAX_MS = 10 * 60_000;
const REFRESH_MS = 10_000;
const DEBOUNCE_MS = 250;
/** Open streams per process; each holds a socket and a few listeners. */
const MAX_STREAMS = 500;
/** Per account, so one client stuck in a reconnect loop cannot use up the process limit. */
export const MAX_STREAMS_PER_USER = 10;

export async function liveSnapshot(deps: AppDeps, course: Course) {
  const live = await deps.store.sessions.liveOfCourse(course.id);
  const now = deps.clock();
  const sessions = await Promise.all(live.map(async (s) => {
    const entries = await computeAttendance(deps.store, s, course, now, deps.verifiedLookup);
    return {
      session_id: s.id, room_id: s.room_id, room_name: s.room_name, started_at: iso(s.started_at)!, period_s: s.period_s,
      checked_in: entries.filter((e) => e.windows_seen > 0).length, ...countByStatus(entries),
    };
  }));
  return { course_id: course.id, at: iso(now)!, timezone: deps.settings.timezone, sessions };
}

export function liveStreamRoutes(routes: RouteTable, deps: AppDeps): void {
  const { events, logger } = deps;
  const log = logger.child({ module: 'live-stream' });
  let open = 0;
  const openByUser = new Map<string, number>();

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/live', tag: 'teacher', auth: ['teacher', 'admin'],
      summary: 'Live sessions of a course with their counts, as server-sent events',
      description: 'A `text/event-stream`: a `snapshot` event at once and whenever a student checks in, an override is made or a session starts or ends; comments as keep-alives. Send the bearer header (read it with fetch; EventSource cannot send headers). Streams close after 10 minutes: reconnect. `checked_in` counts students with at least one accepted token; the statuses are provisional while the session is live.',
      query: z.object({ course_id: id }), responseMediaTypes: ['text/event-stream'],
      errors: [[403, 'forbidden'], [404, 'not_found'], [429, 'too_many_streams'], [503, 'too_many_streams']],
    },
    async ({ user, query, ctx }) => {
      const course = await courseForTeacher(deps.store, user, query.course_id);
      if (open >= MAX_STREAMS) throw new HttpError(503, 'too_many_streams', 'too many live streams are open; try again later', undefined, { 'Retry-After': '30' });
      if ((openByUser.get(user.id) ?? 0) >= MAX_STREAMS_PER_USER) {
        throw new HttpError(429, 'too_many_streams', `at most ${MAX_STREAMS_PER_USER} live streams per account; close one first`, undefined, { 'Retry-After': '30' });
      }
      open++;
      openByUser.set(user.id, (openByUser.get(user.id) ?? 0) + 1);
      // Written to the socket directly (ctx.respond = false): Koa would report every client that
      // goes away from a piped body as a "premature close" error.
      const res = ctx.res;
      ctx.req.socket.setTimeout(0);
      ctx.req.socket.setNoDelay(true);
      ctx.respond = false;
      res.writeHead(200, {
        ...(res.getHeaders() as Record<string, string>),
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store, no-transform',
        'X-Accel-Buffering': 'no', // nginx would otherwise buffer the stream
      });
      const stream = { write: (chunk: string) => res.writableEnded || res.write(chunk), end: () => res.end() };

      let liveIds = new Set<string>();
      let pending: NodeJS.Timeout | null = null;
      let closed = false;
      const send = async () => {
        pending = null;
        if (closed) return;
        try {
          const snap = await liveSnapshot(deps, course);
          liveIds = new Set(snap.sessions.map((s) => s.session_id));
          if (!closed) stream.write(`event: snapshot\ndata: ${JSON.stringify(snap)}\n\n`);
        } catch (err) {
          log.error({ err, course_id: course.id }, 'live snapshot failed');
        }
      };
      const soon = () => {
        pending ??= setTimeout(() => void send(), DEBOUNCE_MS);
      };
      const owner = {};
      events.on('submission.accepted', owner, (e) => liveIds.has(e.session_id) && soon());
      events.on('attendance.overridden', owner, (e) => liveIds.has(e.session_id) && soon());
      events.on('checkin.witnessed', owner, (e) => liveIds.has(e.session_id) && soon());
      events.on('session.started', owner, (s) => s.course_id === course.id && soon());
      events.on('session.ended', owner, (s) => s.course_id === course.id && soon());
      const refresh = setInterval(() => {
        stream.write(': keep-alive\n\n');
        soon();
      }, REFRESH_MS);
      const lifetime = setTimeout(() => stream.end(), STREAM_MAX_MS);
      const close = () => {
        if (closed) return;
        closed = true;
        open--;
        const mine = (openByUser.get(user.id) ?? 1) - 1;
        if (mine > 0) openByUser.set(user.id, mine);
        else openByUser.delete(user.id);
        events.off(owner);
        clearInterval(refresh);
        clearTimeout(lifetime);
        if (pending) clearTimeout(pending);
        stream.end();
      };
      res.on('close', close);
      stream.write('retry: 3000\n\n');
      await send();
    },
  );
}
