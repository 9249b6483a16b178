/**
 * The radio seen by the rest of the gateway. Two kinds of implementation: the bleno one (the
 * only code importing bleno, loaded lazily) and virtual ones for tests and `--radio virtual`.
 */
import type { EventEmitter } from 'node:events';

export type RadioState = 'unknown' | 'resetting' | 'unsupported' | 'unauthorized' | 'poweredOff' | 'poweredOn' | 'stopped';

/** What should be on air: exactly these bytes (DESIGN §3, docs/protocol.md §On air). */
export interface AdvertisingPayload {
  advertisingData: Buffer;
  scanResponse: Buffer;
}

export interface RadioHealth {
  state: RadioState;
  /** True when the wanted payload (or nothing, when none is wanted) is what the controller has. */
  inSync: boolean;
  /** Wall-clock ms when the controller last accepted advertising data, or null. */
  lastAppliedAt: number | null;
  lastError: string | null;
}

/**
 * Events: 'state' (RadioState), 'applied' ({payload: AdvertisingPayload | null, at: number}) each
 * time the controller confirmed new data (or stopped advertising), 'error' is never emitted —
 * errors are recorded in health() and retried, so one bad adapter cannot crash the daemon.
 */
export interface Advertiser extends EventEmitter {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sets the wanted payload (null: advertise nothing). Re-applied after every adapter state change. */
  setPayload(payload: AdvertisingPayload | null): void;
  health(): RadioHealth;
}

export interface ScanReport {
  address: string;
  rssi: number;
  advertisingData: Buffer;
  at: number;
}

/** Events: 'report' (ScanReport), 'state' (RadioState). */
export interface Scanner extends EventEmitter {
  start(): Promise<void>;
  stop(): Promise<void>;
}
