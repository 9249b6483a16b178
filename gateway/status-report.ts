/**
 * What `attendance-gateway status` shows, read from the database only (WAL lets it read while
 * the daemon writes), so it works whether the daemon runs, hangs or is stopped.
 */
import { windowEndMs, windowIndex } from '../shared/token.js';
import type { RadioState } from './ble/advertiser.js';
import type { LinkState } from './mqtt/link.js';
import { KV } from './store/kv.js';
import type { GatewayStore } from './store/store.js';
import type { TimetableData } from './timetable.js';

/** What the daemon keeps in kv for `status`: its radio and its MQTT link as it last saw them. */
export interface GatewayStatusSnapshot {
  kind: string;
  state: RadioState;
  onAir: string | null;
  appliedAt: number | null;
  link: LinkState;
}

export interface StatusReport {
  session: null | {
    id: string;
    courseId: string | null;
    source: string;
    periodS: number;
    startedAt: string;
    endsAt: string | null;
    window: number;
    windowEndsAt: string;
    /** Window the advertised-windows log says is on air; differs from `window` when the daemon is behind. */
    loggedWindow: number | null;
  };
  radio: GatewayStatusSnapshot | null;
  outboxDepth: number;
  lastSyncAt: string | null;
  /** running: stopped cleanly = false; else whether the recorded pid is alive (a SIGKILL leaves no stop record). */
  daemon: { pid: number; startedAt: string; stoppedAt: string | null; version: string; running: boolean } | null;
  timetableSlots: number;
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function readStatus(store: GatewayStore, now = Date.now()): StatusReport {
  const live = store.sessions.live();
  const logged = store.advertisedWindows.current();
  const daemon = store.kv.get<{ pid: number; startedAt: number; stoppedAt?: number; version: string }>(KV.daemon);
  const w = live ? windowIndex(now, live.periodS) : 0;
  return {
    session: live && {
      id: live.id,
      courseId: live.courseId,
      source: live.source,
      periodS: live.periodS,
      startedAt: iso(live.startedAt)!,
      endsAt: iso(live.endsAt),
      window: w,
      windowEndsAt: iso(windowEndMs(w, live.periodS))!,
      loggedWindow: logged?.sessionId === live.id ? logged.w : null,
    },
    radio: store.kv.get<GatewayStatusSnapshot>(KV.status) ?? null,
    outboxDepth: store.outbox.depth(),
    lastSyncAt: iso(store.kv.get<number>(KV.lastSyncAt)),
    daemon: daemon
      ? {
          pid: daemon.pid,
          startedAt: iso(daemon.startedAt)!,
          stoppedAt: iso(daemon.stoppedAt),
          version: daemon.version,
          running: daemon.stoppedAt === undefined && pidAlive(daemon.pid),
        }
      : null,
    timetableSlots: store.kv.get<TimetableData>(KV.timetable)?.slots.length ?? 0,
  };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user (status run as root, daemon as its own user).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function formatStatus(s: StatusReport): string {
  const lines: string[] = [];
  if (s.session) {
    const x = s.session;
    lines.push(`session      ${x.id} (${x.courseId ?? 'no course'}, source ${x.source}, period ${x.periodS} s)`);
    lines.push(`             started ${x.startedAt}${x.endsAt ? `, ends ${x.endsAt}` : ''}`);
    const behind = x.loggedWindow !== null && x.loggedWindow !== x.window ? `  ! token log shows window ${x.loggedWindow}` : '';
    lines.push(`window       ${x.window} until ${x.windowEndsAt}${behind}`);
  } else {
    lines.push('session      none live');
  }
  if (s.radio) {
    lines.push(`radio        ${s.radio.kind}, ${s.radio.state}${s.radio.appliedAt ? `, last applied ${iso(s.radio.appliedAt)}` : ''}`);
    lines.push(`on air       ${s.radio.onAir ?? 'nothing'}`);
    lines.push(`mqtt         ${s.radio.link}`);
  } else {
    lines.push('radio        never started');
  }
  lines.push(`outbox       ${s.outboxDepth} event(s) waiting`);
  lines.push(`last sync    ${s.lastSyncAt ?? 'never'}`);
  const d = s.daemon;
  const state = d ? (d.running ? 'running' : d.stoppedAt ? `stopped ${d.stoppedAt}` : 'not running (did not stop cleanly)') : '';
  lines.push(`daemon       ${d ? `${state}, pid ${d.pid}, started ${d.startedAt}, version ${d.version}` : 'never ran'}`);
  lines.push(`timetable    ${s.timetableSlots} slot(s)`);
  return lines.join('\n');
}
