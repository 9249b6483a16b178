/**
 * Scanner over the real `@abandonware/noble` — with bleno-advertiser.ts, the only code that
 * loads a BLE stack, lazily in start(). Used by `attendance-gateway scan` and by the tests that
 * check what the real bleno put on (virtual) air.
 *
 * noble decodes advertising data into an `advertisement` object (lib/hci-socket/gap.js
 * parseServices, merging ADV_IND and SCAN_RSP); reports carry it re-encoded as AD structures
 * (see noble-advertisement.ts), which findAttendanceFrame (shared/advertisement.ts) decodes.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { Backoff } from '../../shared/backoff.js';
import type { RadioState, ScanReport, Scanner } from './advertiser.js';
import { encodeNobleAdvertisement, type NobleAdvertisement } from './noble-advertisement.js';

interface NoblePeripheral {
  address: string;
  rssi: number;
  advertisement: NobleAdvertisement;
}

/** The part of noble's API this file uses (noble's own typings are not loaded lazily). */
interface Noble extends EventEmitter {
  readonly state: RadioState;
  readonly initialized: boolean;
  startScanning(serviceUuids: string[], allowDuplicates: boolean, callback: (error?: Error | null) => void): void;
  stopScanning(callback?: () => void): void;
}

export interface NobleScannerOptions {
  logger: Logger;
  /** hciN to scan with; also exported as NOBLE_HCI_DEVICE_ID. Default: noble's (env or first). */
  hciDeviceId?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  now?: () => number;
}

const require = createRequire(import.meta.url);
type Listener = Parameters<EventEmitter['on']>[1];
/** One noble instance per adapter for the life of the process (its poll loop never ends). */
const instances = new Map<string, Noble>();

function loadNoble(deviceId: number | undefined): Noble {
  const key = deviceId === undefined ? 'default' : String(deviceId);
  let noble = instances.get(key);
  if (!noble) {
    if (deviceId !== undefined) process.env.NOBLE_HCI_DEVICE_ID = String(deviceId);
    const create = require('@abandonware/noble/with-custom-binding') as (options: { deviceId?: number }) => Noble;
    noble = create(deviceId === undefined ? {} : { deviceId });
    instances.set(key, noble);
  }
  return noble;
}

/** Events: 'report' (ScanReport) for every advertisement heard, 'state' (RadioState). */
export class NobleScanner extends EventEmitter implements Scanner {
  private noble: Noble | null = null;
  private running = false;
  private scanning = false;
  private state: RadioState = 'unknown';
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly subscriptions: Array<[string, Listener]> = [];

  constructor(private readonly options: NobleScannerOptions) {
    super();
    this.backoff = new Backoff({ minMs: options.retryMinMs ?? 500, maxMs: options.retryMaxMs ?? 30_000 });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.attach();
  }

  private attach(): void {
    if (!this.running || this.noble) return;
    try {
      const noble = loadNoble(this.options.hciDeviceId);
      this.noble = noble;
      this.subscribe(noble, 'warning', (message: string) => this.options.logger.warn({ warning: message }, 'noble warning'));
      this.subscribe(noble, 'discover', (peripheral: NoblePeripheral) => this.onDiscover(peripheral));
      this.subscribe(noble, 'scanStop', () => this.onScanStop());
      // The first 'stateChange' listener makes noble bind the HCI socket (on the next tick).
      this.subscribe(noble, 'stateChange', (state: RadioState) => this.onState(state));
      if (noble.initialized && noble.state !== 'unknown') this.onState(noble.state);
    } catch (error) {
      this.detach();
      this.retry(`noble unavailable: ${(error as Error).message}`, () => this.attach());
    }
  }

  private subscribe<A extends unknown[]>(noble: Noble, event: string, listener: (...args: A) => void): void {
    noble.on(event, listener);
    this.subscriptions.push([event, listener as Listener]);
  }

  private detach(): void {
    for (const [event, listener] of this.subscriptions) this.noble?.off(event, listener);
    this.subscriptions.length = 0;
    this.noble = null;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const noble = this.noble;
    if (noble && this.scanning) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        noble.stopScanning(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.scanning = false;
    this.detach();
    this.setState('stopped');
  }

  private setState(state: RadioState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  private onState(state: RadioState): void {
    this.options.logger.info({ state }, 'bluetooth scanner adapter state');
    this.scanning = false;
    this.setState(state);
    if (state === 'poweredOn') this.startScanning();
  }

  private startScanning(): void {
    const noble = this.noble;
    if (!this.running || !noble || this.state !== 'poweredOn' || this.retryTimer) return;
    // allowDuplicates: every advertising event is a report — a beacon's data changes in place.
    noble.startScanning([], true, (error) => {
      if (error) {
        this.retry(`scan start failed: ${error.message}`, () => this.startScanning());
        return;
      }
      this.backoff.reset();
      this.scanning = true;
    });
  }

  /** Scanning stopped while we want it (another host on the adapter, a controller hiccup). */
  private onScanStop(): void {
    if (!this.running || !this.scanning) return;
    this.scanning = false;
    this.retry('scanning stopped unexpectedly', () => this.startScanning());
  }

  private onDiscover(peripheral: NoblePeripheral): void {
    const report: ScanReport = {
      address: peripheral.address,
      rssi: peripheral.rssi,
      advertisingData: encodeNobleAdvertisement(peripheral.advertisement),
      at: (this.options.now ?? Date.now)(),
    };
    this.emit('report', report);
  }

  private retry(message: string, action: () => void): void {
    const delay = this.backoff.next();
    this.options.logger.warn({ err: message, retryInMs: delay }, 'scanner problem; will retry');
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.running) action();
    }, delay);
  }
}
