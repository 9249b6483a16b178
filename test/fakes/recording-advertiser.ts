/**
 * An Advertiser that records every payload it is given, with the time, and can pretend the
 * adapter went away. For unit tests of the parts above the radio; the real bleno code is tested
 * against the virtual HCI controller in test/ble.
 */
import { EventEmitter } from 'node:events';
import type { Advertiser, AdvertisingPayload, RadioHealth, RadioState } from '../../gateway/ble/advertiser.js';

export interface RecordedPayload {
  at: number;
  payload: AdvertisingPayload | null;
}

export class RecordingAdvertiser extends EventEmitter implements Advertiser {
  readonly log: RecordedPayload[] = [];
  private state: RadioState = 'unknown';
  private wanted: AdvertisingPayload | null = null;
  private lastAppliedAt: number | null = null;

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  async start(): Promise<void> {
    this.setState('poweredOn');
  }

  async stop(): Promise<void> {
    this.setState('stopped');
  }

  setPayload(payload: AdvertisingPayload | null): void {
    this.wanted = payload;
    if (this.state !== 'poweredOn') return;
    this.apply();
  }

  health(): RadioHealth {
    return { state: this.state, inSync: this.state === 'poweredOn', lastAppliedAt: this.lastAppliedAt, lastError: null };
  }

  /** Simulates the adapter disappearing ('poweredOff') or coming back ('poweredOn'). */
  setState(state: RadioState): void {
    this.state = state;
    this.emit('state', state);
    if (state === 'poweredOn') this.apply();
  }

  /** The advertising data currently "on air", as hex, or null. */
  onAirHex(): string | null {
    return this.state === 'poweredOn' && this.wanted ? this.wanted.advertisingData.toString('hex') : null;
  }

  private apply(): void {
    const at = this.now();
    this.lastAppliedAt = at;
    this.log.push({ at, payload: this.wanted });
    this.emit('applied', { payload: this.wanted, at });
  }
}
