/**
 * The radio seen by the rest of the gateway. Two kinds of implementation: the bleno one (the
 * only code importing bleno, loaded lazily) and virtual ones for tests and `--radio virtual`.
 */
import type { EventEmitter } from 'node:events';

export type RadioState = 'unknown' | 'resetting' | 'unsupported' | 'unauthorized' | 'poweredOff' | 'poweredOn' | 'stopped';

/** What should be on air: exactly these bytes (docs/protocol.md §On air). */
export interface AdvertisingPayload {
  advertisingData: Buffer;
  scanResponse: Buffer;
}

export interface RadioHealth {
  state: RadioState;
  /** True when the wanted payload (or nothing, when none is wanted) is what the controller has. */
  inSync: boolean;
  /**
   * Wall-clock ms when the controller last accepted advertising data (or the stop), or null.
   * Also advanced by the periodic refresh, so its age is a liveness signal for the watchdog.
   */
  lastAppliedAt: number | null;
  /** Why the radio is failing right now; null again once the controller confirms. */
  lastError: string | null;
}

/**
 * Events: 'state' (RadioState), 'applied' ({payload: AdvertisingPayload | null, at: number}) each
 * time the controller confirmed data different from what it held (including the same payload
 * again after the adapter came back, since a returning adapter is empty) or stopped advertising;
 * `at` is wall-clock ms. 'error' is never emitted — errors are recorded in health() and retried
 * with backoff, so one bad adapter cannot crash the daemon.
 *
 * Implementations: BlenoAdvertiser (bleno-advertiser.ts); create one with createAdvertiser()
 * in radio.ts, `kind: 'virtual'` for the same code on a virtual controller.
 */
export interface Advertiser extends EventEmitter {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sets the wanted payload (null: advertise nothing). Re-applied after every adapter state change. */
  setPayload(payload: AdvertisingPayload | null): void;
  health(): RadioHealth;
}

export interface ScanReport {
  /** BD_ADDR of the advertiser, "aa:bb:cc:dd:ee:ff". */
  address: string;
  rssi: number;
  /**
   * AD structures as heard (ADV_IND merged with SCAN_RSP, re-encoded from noble's decoded
   * advertisement — see noble-advertisement.ts); findAttendanceFrame() decodes it.
   */
  advertisingData: Buffer;
  /** Wall-clock ms of the report. */
  at: number;
}

/**
 * Events: 'report' (ScanReport) for every advertising event heard (duplicates included),
 * 'state' (RadioState). Scanning restarts on its own after the adapter returns.
 */
export interface Scanner extends EventEmitter {
  start(): Promise<void>;
  stop(): Promise<void>;
}
