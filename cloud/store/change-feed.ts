/**
 * The change feed keeps the caches of several cloud instances on one PostgreSQL coherent
 * (docs/operations.md, "Scaling"). Every change a cache may hold is published as a small
 * notification, `{kind, id}` on the channel `attendance_changes`, and every instance keeps one
 * dedicated connection that LISTENs to it and emits each notification on its own bus as
 * `changes.remote`; the caches forget what it names, as they do for this instance's own events.
 * Each time that connection is (re)established the feed emits `changes.remote` `{kind: 'all'}`:
 * it may have missed notifications while it was not listening, so every cache is dropped. The
 * caches' lifetimes stay as the safety net. An instance hears its own notifications too, which
 * only invalidates twice. On SQLite there is one process and the feed does nothing.
 *
 * Published from one place, an event bus listener: every such event is emitted after its commit
 * by the code that committed it, so a notification is never sent for a change that rolled back.
 * Sending NOTIFY inside each transaction instead would also cover a crash between the commit and
 * the notification, at the price of touching every committing repository; that gap is what the
 * cache lifetimes cover.
 */
import pg from 'pg';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Logger } from 'pino';
import { Backoff, type BackoffOptions } from '../../shared/backoff.js';
import type { CloudEvents } from '../events.js';
import type { Store } from './db.js';

export const CHANGE_CHANNEL = 'attendance_changes';

const KINDS = ['session', 'enrolment', 'course', 'gateway', 'account', 'command'] as const;
export type ChangeKind = (typeof KINDS)[number];

/**
 * What changed: a session started or ended, a course's enrolments or its policy, a gateway was
 * revoked, an account's tokens were revoked, a gateway command was settled (ids of those); `all`
 * when anything may have.
 */
export type Change = { kind: ChangeKind; id: string } | { kind: 'all' };

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7999;
/** More distinct changes in one event-loop turn (a roster import) are published as one `all`. */
export const MAX_CHANGES_PER_TURN = 100;
const changeSchema = z.object({ kind: z.enum(KINDS), id: z.string().min(1).max(200) }).strict();

const RECONNECT: BackoffOptions = { minMs: 200, maxMs: 30_000, jitter: 0.25 };
/** How often the idle listening connection is asked `select 1`, and how long it may take to answer. */
const PROBE = { intervalMs: 30_000, timeoutMs: 10_000 };

/** Calls `fn` with the change each of this instance's events stands for (removed by `events.off(owner)`). */
function onLocalChange(events: CloudEvents, owner: object, fn: (change: Change) => void): void {
  events.on('session.started', owner, (s) => fn({ kind: 'session', id: s.id }));
  events.on('session.ended', owner, (s) => fn({ kind: 'session', id: s.id }));
  events.on('enrollment.changed', owner, ({ course_id }) => fn({ kind: 'enrolment', id: course_id }));
  events.on('course.policy_changed', owner, ({ course_id }) => fn({ kind: 'course', id: course_id }));
  events.on('gateway.revoked', owner, ({ gateway_id }) => fn({ kind: 'gateway', id: gateway_id }));
  events.on('account.tokens_revoked', owner, ({ user_id }) => fn({ kind: 'account', id: user_id }));
  events.on('command.settled', owner, ({ command_id }) => fn({ kind: 'command', id: command_id }));
}

/**
 * Calls `fn` for every committed change a cache may hold: this instance's own (its events) and
 * every other instance's (through the feed). What a cache subscribes with; `events.off(owner)`
 * removes it.
 */
export function onChange(events: CloudEvents, owner: object, fn: (change: Change) => void): void {
  onLocalChange(events, owner, fn);
  events.on('changes.remote', owner, fn);
}

/** The notification's payload as a change; anything else means "something changed". */
export function parseChange(payload: string | undefined): Change | null {
  try {
    const parsed = changeSchema.safeParse(JSON.parse(payload ?? ''));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Whether `work` settled successfully within `ms`. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timeout: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timeout = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true, () => false), late]);
  } finally {
    clearTimeout(timeout);
  }
}

export interface ChangeFeed {
  /** Publishes this instance's changes and starts listening; resolves once listening (or after a first failed attempt, retried with backoff). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The backend process id of the listening connection (pg_stat_activity), null while not listening. */
  readonly backendPid: number | null;
}

export interface ChangeFeedOptions {
  databaseUrl: string;
  store: Store;
  events: CloudEvents;
  logger: Logger;
  reconnect?: BackoffOptions;
  /** A listening connection that does not answer a probe in time is given up (a link that silently drops everything). */
  probe?: { intervalMs: number; timeoutMs: number };
}

export function createChangeFeed(opts: ChangeFeedOptions): ChangeFeed {
  if (opts.store.dialect.kind !== 'postgres') return { start: async () => {}, stop: async () => {}, backendPid: null };
  const { store, events, logger } = opts;
  const backoff = new Backoff(opts.reconnect ?? RECONNECT);
  const owner = {};
  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | null = null;
  let probing: NodeJS.Timeout | null = null;
  let stopped = true;
  const probe = opts.probe ?? PROBE;

  // The changes of one event-loop turn go out in one statement, so a bulk change does not queue
  // a notification per row on the pool.
  let turn: Set<string> | null = null;

  function publish(change: Change): void {
    const payload = JSON.stringify(change);
    if (!turn) {
      turn = new Set();
      setImmediate(flush);
    }
    turn.add(Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES ? JSON.stringify({ kind: 'all' }) : payload);
  }

  function flush(): void {
    if (!turn) return;
    const payloads = turn.size > MAX_CHANGES_PER_TURN ? [JSON.stringify({ kind: 'all' })] : [...turn];
    turn = null;
    sql`select pg_notify(${CHANGE_CHANNEL}, payload) from unnest(${payloads}::text[]) as payload`.execute(store.db).catch((err: unknown) => {
      // The other instances see the changes when their cache entries expire.
      logger.warn({ err: (err as Error).message, changes: payloads.length }, 'change notifications not sent');
    });
  }

  function received(payload: string | undefined): void {
    const change = parseChange(payload);
    if (!change) logger.warn({ bytes: payload?.length ?? 0 }, 'unreadable change notification: every cache is dropped');
    events.emit('changes.remote', change ?? { kind: 'all' });
  }

  function retryLater(): void {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = null;
      void listen();
    }, backoff.next());
  }

  async function listen(): Promise<void> {
    const c = new pg.Client({ connectionString: opts.databaseUrl, application_name: 'attendance-cloud change feed', connectionTimeoutMillis: 10_000, keepAlive: true });
    c.on('notification', (msg) => {
      if (msg.channel === CHANGE_CHANNEL) received(msg.payload);
    });
    // Without an error listener a dropped connection would crash the process.
    c.on('error', (err) => logger.warn({ err: err.message }, 'change feed connection failed'));
    c.on('end', () => lost(c, 'closed'));
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (err) {
      logger.warn({ err: (err as Error).message, failures: backoff.failures + 1 }, 'change feed cannot listen: caches rely on their lifetimes until it can');
      await c.end().catch(() => {});
      retryLater();
      return;
    }
    if (stopped) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    if (backoff.failures) logger.info({ failures: backoff.failures }, 'change feed listening again');
    backoff.reset();
    probing = setTimeout(() => void probeOnce(c), probe.intervalMs);
    // Notifications sent while this instance was not listening are lost: forget everything.
    events.emit('changes.remote', { kind: 'all' });
  }

  /** A connection that does not answer is as good as closed; its socket is left to TCP keepalive. */
  async function probeOnce(c: pg.Client): Promise<void> {
    if (await within(c.query('select 1'), probe.timeoutMs)) {
      if (client === c) probing = setTimeout(() => void probeOnce(c), probe.intervalMs);
      return;
    }
    lost(c, 'unresponsive');
    void c.end().catch(() => {});
  }

  function lost(c: pg.Client, how: 'closed' | 'unresponsive'): void {
    if (client !== c) return;
    client = null;
    if (probing) clearTimeout(probing);
    probing = null;
    if (stopped) return;
    logger.warn({ how }, 'change feed connection lost: reconnecting, then dropping every cache');
    retryLater();
  }

  return {
    async start() {
      stopped = false;
      onLocalChange(events, owner, publish);
      await listen();
    },
    async stop() {
      stopped = true;
      events.off(owner);
      flush();
      if (timer) clearTimeout(timer);
      timer = null;
      const c = client;
      if (c) lost(c, 'closed');
      // Bounded: on a link that drops everything the goodbye is never answered.
      if (c) await within(c.end(), probe.timeoutMs);
    },
    get backendPid() {
      return (client as (pg.Client & { processID?: number }) | null)?.processID ?? null;
    },
  };
}
