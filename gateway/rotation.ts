/**
 * Keeps the advertised frame equal to the live session's window of *now* (docs/protocol.md §Tokens).
 *
 * The next change is a setTimeout to the next window boundary, recomputed from the wall clock
 * every time (a setInterval drifts, and cannot notice a clock step). Timers are monotonic, so a
 * clock step or a suspended process can make one fire at the wrong wall time: a once-a-second
 * check compares the advertised window with window(now) and repairs it. Every rotation is
 * written to the advertised-windows log and the outbox (`token.rotated`) in one transaction.
 */
import type { Logger } from 'pino';
import { windowEndMs, windowIndex } from '../shared/token.js';
import type { Advertiser } from './ble/advertiser.js';
import type { GatewayEvents } from './events.js';
import type { OnAirEncoder } from './on-air.js';
import type { SessionManager } from './sessions.js';
import type { GatewayStore } from './store/store.js';

export type OnAir = { kind: 'session'; sessionId: string; w: number; since: number } | { kind: 'idle'; idleFrame: boolean; since: number };

export interface RotationDeps {
  store: GatewayStore;
  events: GatewayEvents;
  sessions: SessionManager;
  advertiser: Advertiser;
  encoder: OnAirEncoder;
  idleFrame: () => boolean;
  log: Logger;
  now?: () => number;
  checkIntervalMs?: number;
}

export class Rotation {
  private onAir: OnAir | null = null;
  private boundaryTimer: NodeJS.Timeout | null = null;
  private checkTimer: NodeJS.Timeout | null = null;
  private ticking = false;
  private tickAgain = false;
  private lastError: string | null = null;
  private readonly now: () => number;

  constructor(private readonly deps: RotationDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    const { events } = this.deps;
    events.on('session.changed', this, () => this.refresh('session'));
    events.on('config.changed', this, () => this.refresh('config'));
    this.refresh('start');
    this.checkTimer = setInterval(() => this.refresh('check'), this.deps.checkIntervalMs ?? 1000);
  }

  stop(): void {
    this.deps.events.off(this);
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    this.boundaryTimer = this.checkTimer = null;
  }

  current(): OnAir | null {
    return this.onAir;
  }

  /** Null while rotations succeed; the last failure otherwise (the watchdog stops on it). */
  error(): string | null {
    return this.lastError;
  }

  /** Re-evaluates what must be on air now. Safe to call at any time, from any listener. */
  refresh(reason: string): void {
    // endExpired() announces session.changed synchronously, whose listener calls refresh() again.
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = true;
    try {
      do {
        this.tickAgain = false;
        this.tick(reason);
      } while (this.tickAgain);
      this.lastError = null;
    } catch (err) {
      this.lastError = (err as Error).message;
      this.deps.log.error({ err, reason }, 'rotation failed; retrying at the next check');
    } finally {
      this.ticking = false;
    }
  }

  private tick(reason: string): void {
    const now = this.now();
    this.deps.sessions.endExpired(now);
    const live = this.deps.sessions.live();
    if (!live) {
      this.showIdle(now);
      return;
    }
    const w = windowIndex(now, live.periodS);
    const prev = this.onAir;
    if (prev?.kind !== 'session' || prev.sessionId !== live.id || prev.w !== w) {
      this.rotate(live.id, w, now, prev, reason);
    }
    const next = Math.min(windowEndMs(w, live.periodS), live.endsAt ?? Number.POSITIVE_INFINITY);
    this.armBoundary(next - now);
  }

  private rotate(sessionId: string, w: number, now: number, prev: OnAir | null, reason: string): void {
    const { store, advertiser, encoder, log } = this.deps;
    // Radio first: the boundary-to-air delay is what students' phones see; the log follows at once.
    advertiser.setPayload(encoder.sessionPayload(sessionId, w));
    const tokenHex = encoder.token(sessionId, w).toString('hex');
    store.transaction(() => {
      store.advertisedWindows.closeOpen(now);
      store.advertisedWindows.open(sessionId, w, tokenHex, now);
      store.outbox.append('token.rotated', { session_id: sessionId, w, advertised_at: new Date(now).toISOString() }, now);
    });
    this.onAir = { kind: 'session', sessionId, w, since: now };
    if (prev?.kind === 'session' && prev.sessionId === sessionId && w !== prev.w + 1) {
      log.warn({ sessionId, fromW: prev.w, toW: w, reason }, 'window jumped: wall clock stepped or process was suspended');
    } else {
      log.info({ sessionId, w, reason }, 'advertising window');
    }
  }

  private showIdle(now: number): void {
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    this.boundaryTimer = null;
    const idleFrame = this.deps.idleFrame();
    if (this.onAir?.kind === 'idle' && this.onAir.idleFrame === idleFrame) return;
    this.deps.advertiser.setPayload(idleFrame ? this.deps.encoder.idlePayload() : null);
    this.onAir = { kind: 'idle', idleFrame, since: now };
    this.deps.log.info({ idleFrame }, idleFrame ? 'no live session: advertising the idle frame' : 'no live session: advertising nothing');
  }

  private armBoundary(delayMs: number): void {
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    this.boundaryTimer = setTimeout(() => this.refresh('boundary'), Math.max(0, delayMs));
  }
}
