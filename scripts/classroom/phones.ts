/**
 * Students' phones on the virtual air: the real noble (on a virtual controller of this process)
 * hears what the gateway's real bleno advertises, and every attendance frame it decodes is
 * remembered per room with the time it was first heard. Simulated students read the latest frame
 * of their room and submit it over HTTP like the app does.
 */
import type { Logger } from 'pino';
import { findAttendanceFrame } from '../../shared/advertisement.js';
import { encodeFrame } from '../../shared/frame.js';
import type { ScanReport, Scanner } from '../../gateway/ble/advertiser.js';
import { createScanner } from '../../gateway/ble/radio.js';
import type { Air } from '../../gateway/ble/virtual/air.js';

export interface HeardFrame {
  roomCode: number;
  w: number;
  token: string;
  /** The 17-byte frame, hex: what the student app submits. */
  frame: string;
  rssi: number;
  /** When this frame was first heard (ms). */
  firstHeardAt: number;
}

export class PhoneListener {
  private readonly heard = new Map<string, HeardFrame>();
  private readonly latestByRoom = new Map<number, HeardFrame>();
  private readonly waiters = new Set<() => void>();
  private readonly listeners = new Set<(f: HeardFrame) => void>();

  private constructor(private readonly scanner: Scanner) {
    scanner.on('report', (report: ScanReport) => this.onReport(report));
  }

  static async start(air: Air, logger: Logger): Promise<PhoneListener> {
    const scanner = createScanner({ kind: 'virtual', logger, virtual: { air, rssi: -63, rssiJitterDb: 4 } });
    const listener = new PhoneListener(scanner);
    await scanner.start();
    return listener;
  }

  private onReport(report: ScanReport): void {
    const f = findAttendanceFrame(report.advertisingData);
    if (!f) return;
    const frame = encodeFrame(f).toString('hex');
    if (!this.heard.has(frame)) {
      const heard: HeardFrame = { roomCode: f.roomCode, w: f.w, token: f.token.toString('hex'), frame, rssi: report.rssi, firstHeardAt: report.at };
      this.heard.set(frame, heard);
      this.latestByRoom.set(f.roomCode, heard);
      for (const wake of this.waiters) wake();
      for (const fn of this.listeners) fn(heard);
    }
  }

  /** Calls `fn` for each new distinct frame heard; returns the unsubscribe function. */
  onFrame(fn: (f: HeardFrame) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  latest(roomCode: number): HeardFrame | null {
    return this.latestByRoom.get(roomCode) ?? null;
  }

  /** Every distinct frame heard so far, in the order first heard. */
  all(): HeardFrame[] {
    return [...this.heard.values()];
  }

  /** Resolves with the first heard frame matching `pred` (including ones heard before the call). */
  waitFor(pred: (f: HeardFrame) => boolean, timeoutMs: number, what = 'a frame'): Promise<HeardFrame> {
    const found = this.all().find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const wake = () => {
        const f = this.all().find(pred);
        if (!f) return;
        cleanup();
        resolve(f);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${what} heard within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      this.waiters.add(wake);
    });
  }

  stop(): Promise<void> {
    return this.scanner.stop();
  }
}
