/**
 * Advertiser over the real `@abandonware/bleno` — with scanner code in noble-scanner.ts, the
 * only code that loads it, lazily in start(), so the daemon runs (and reports the radio as
 * unhealthy) on a machine where bleno cannot load.
 *
 * Behaviour (docs/radio.md §What the advertiser guarantees):
 * - advertises only while bleno is `poweredOn`, with startAdvertisingWithEIRData so the bytes
 *   are exactly those of docs/protocol.md §On air;
 * - after every state change the controller is assumed empty (a downed adapter comes back
 *   reset) and the wanted payload is applied again once `poweredOn` returns;
 * - one bleno operation at a time: bleno's gap has a single advertise state, so overlapping
 *   start/stop calls would confirm the wrong operation;
 * - an operation the controller does not confirm within `confirmTimeoutMs`, or confirms with an
 *   error status, is retried with exponential backoff; errors are recorded in health(), never
 *   thrown at the daemon;
 * - the payload is re-sent every `refreshIntervalMs`, which heals a controller that silently
 *   dropped advertising (the failure BLE daemons on a Pi are most reported for);
 * - right after loading bleno it gives it several links at once (bleno-links.ts, before bleno
 *   initialises); if bleno lacks the internals that needs, it says so at error level and in
 *   health().lastError, and advertises without serving GATT;
 * - it hands the loaded bleno and its links to the GATT check-in service it serves (serveGatt,
 *   bleno-gatt.ts), and takes them back when it lets bleno go.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { Backoff } from '../../shared/backoff.js';
import type { Advertiser, AdvertisingPayload, RadioHealth, RadioState } from './advertiser.js';
import type { BlenoAttachment, GattHost } from './bleno-gatt.js';
import { installBlenoLinks, type BlenoLinks } from './bleno-links.js';
import { samePayload } from './payload.js';

/** The part of bleno's API this file uses (bleno ships no types). */
interface Bleno extends EventEmitter {
  readonly state: RadioState;
  startAdvertisingWithEIRData(advertisementData: Buffer, scanData: Buffer): void;
  stopAdvertising(): void;
}

export interface BlenoAdvertiserOptions {
  logger: Logger;
  /** hciN to use; sets BLENO_HCI_DEVICE_ID before bleno loads. Default: bleno's (the first). */
  hciDeviceId?: number;
  /** BLENO_ADVERTISING_INTERVAL in ms (bleno's default 100). */
  advertisingIntervalMs?: number;
  /** Centrals served at once; advertising is re-enabled after a connection while fewer are up (default 8). */
  maxLinks?: number;
  confirmTimeoutMs?: number;
  refreshIntervalMs?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  now?: () => number;
}

const require = createRequire(import.meta.url);
type Listener = Parameters<EventEmitter['on']>[1];
/** bleno is a process-wide singleton bound to one adapter when it initialises. */
let shared: { bleno: Bleno; deviceId: number | undefined; links: BlenoLinks | null; linksError: string | null; initError?: string } | null = null;

/** A configuration error, thrown by start(): one process cannot advertise on two adapters. */
function assertSameAdapter(deviceId: number | undefined): void {
  if (shared && deviceId !== undefined && shared.deviceId !== undefined && shared.deviceId !== deviceId) {
    throw new Error(`bleno is already bound to hci${shared.deviceId} in this process; cannot use hci${deviceId}`);
  }
}

function loadBleno(deviceId: number | undefined, maxLinks: number | undefined): NonNullable<typeof shared> {
  if (shared) return shared;
  if (deviceId !== undefined) process.env.BLENO_HCI_DEVICE_ID = String(deviceId);
  const bleno = require('@abandonware/bleno') as Bleno;
  // Before anything subscribes to 'stateChange' (which makes bleno initialise).
  let links: BlenoLinks | null = null;
  let linksError: string | null = null;
  try {
    links = installBlenoLinks(bleno, { ...(maxLinks !== undefined && { maxLinks }) });
  } catch (error) {
    linksError = (error as Error).message;
  }
  shared = { bleno, deviceId, links, linksError };
  return shared;
}

type Operation = { kind: 'start'; payload: AdvertisingPayload } | { kind: 'stop' };

/** Events: see Advertiser. 'applied' fires when the controller holds a different payload. */
export class BlenoAdvertiser extends EventEmitter implements Advertiser, GattHost {
  private bleno: Bleno | null = null;
  private links: BlenoLinks | null = null;
  private gatt: BlenoAttachment | null = null;
  private running = false;
  private state: RadioState = 'unknown';
  private wanted: AdvertisingPayload | null = null;
  /** What the controller holds as far as we know; undefined = unknown (after a failure). */
  private confirmed: AdvertisingPayload | null | undefined = null;
  private operation: Operation | null = null;
  private readonly backoff: Backoff;
  private lastAppliedAt: number | null = null;
  private lastError: string | null = null;
  private confirmTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private readonly subscriptions: Array<[string, Listener]> = [];

  constructor(private readonly options: BlenoAdvertiserOptions) {
    super();
    this.backoff = new Backoff({ minMs: options.retryMinMs ?? 500, maxMs: options.retryMaxMs ?? 30_000 });
  }

  private get now(): number {
    return (this.options.now ?? Date.now)();
  }

  async start(): Promise<void> {
    if (this.running) return;
    assertSameAdapter(this.options.hciDeviceId);
    this.running = true;
    if (this.options.advertisingIntervalMs !== undefined) {
      process.env.BLENO_ADVERTISING_INTERVAL = String(this.options.advertisingIntervalMs);
    }
    this.attach();
    const refreshMs = this.options.refreshIntervalMs ?? 60_000;
    if (refreshMs > 0) {
      this.refreshTimer = setInterval(() => this.refresh(), refreshMs);
      this.refreshTimer.unref();
    }
  }

  /**
   * Loads bleno and subscribes. A load failure (no Bluetooth in the kernel, bleno missing) is
   * recorded and retried: Node re-evaluates a module whose evaluation threw. An init failure
   * (the adapter cannot be bound) is not: bleno's singleton is then half-initialised and a
   * second init would register its internal listeners twice, so only a restart of the process
   * helps — health() says so and the daemon's watchdog decides.
   */
  private attach(): void {
    if (!this.running || this.bleno) return;
    let loaded: NonNullable<typeof shared>;
    try {
      loaded = loadBleno(this.options.hciDeviceId, this.options.maxLinks);
    } catch (error) {
      this.fail(`bleno unavailable: ${(error as Error).message}`, () => this.attach());
      return;
    }
    const { bleno, links, linksError } = loaded;
    if (linksError) this.options.logger.error({ err: linksError }, 'bleno cannot serve several connections; the check-in service is off');
    if (shared?.initError) {
      this.recordInitError(shared.initError);
      return;
    }
    this.subscribe(bleno, 'advertisingStart', () => this.onStartConfirmed(null));
    this.subscribe(bleno, 'advertisingStartError', (error: Error) => this.onStartConfirmed(error));
    this.subscribe(bleno, 'advertisingStop', () => this.onStopConfirmed());
    try {
      // The first 'stateChange' listener makes bleno bind the HCI socket and initialise.
      this.subscribe(bleno, 'stateChange', (state: RadioState) => this.onState(state));
    } catch (error) {
      this.detach();
      if (shared) shared.initError = (error as Error).message;
      this.recordInitError((error as Error).message);
      return;
    }
    this.bleno = bleno;
    this.links = links;
    if (links) this.gatt?.attach(bleno, links);
    if (bleno.state !== 'unknown') this.onState(bleno.state);
  }

  /** Serves `gatt` on this adapter from the moment bleno is loaded (now, if it is); null stops serving it. */
  serveGatt(gatt: BlenoAttachment | null): void {
    if (this.gatt === gatt) return;
    if (this.links) this.gatt?.detach();
    this.gatt = gatt;
    if (this.bleno && this.links) gatt?.attach(this.bleno, this.links);
  }

  private recordInitError(message: string): void {
    this.lastError = `bleno could not open the adapter: ${message} (restart the process to retry)`;
    this.options.logger.error({ err: message }, 'bluetooth adapter could not be opened');
  }

  private subscribe<A extends unknown[]>(bleno: Bleno, event: string, listener: (...args: A) => void): void {
    bleno.on(event, listener);
    this.subscriptions.push([event, listener as Listener]);
  }

  private detach(): void {
    if (this.links) this.gatt?.detach();
    this.links = null;
    const bleno = shared?.bleno;
    for (const [event, listener] of this.subscriptions) bleno?.off(event, listener);
    this.subscriptions.length = 0;
    this.bleno = null;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.clearTimers();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    const bleno = this.bleno;
    if (bleno && this.state === 'poweredOn' && this.confirmed !== null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.confirmTimeoutMs ?? 3_000);
        bleno.once('advertisingStop', () => {
          clearTimeout(timer);
          resolve();
        });
        bleno.stopAdvertising();
      });
    }
    this.detach();
    this.operation = null;
    this.confirmed = null;
    this.setState('stopped');
  }

  setPayload(payload: AdvertisingPayload | null): void {
    this.wanted = payload && { advertisingData: Buffer.from(payload.advertisingData), scanResponse: Buffer.from(payload.scanResponse) };
    this.reconcile();
  }

  health(): RadioHealth {
    // A bleno without the internals for several links is a lasting problem: it outlives a confirmation.
    const lasting = this.running ? (shared?.linksError ?? null) : null;
    return { state: this.state, inSync: this.inSync(), lastAppliedAt: this.lastAppliedAt, lastError: this.lastError ?? (lasting && `bleno cannot serve several connections: ${lasting}`) };
  }

  private inSync(): boolean {
    if (this.operation) return false;
    if (this.wanted === null) return this.state !== 'poweredOn' || this.confirmed === null;
    return this.state === 'poweredOn' && this.confirmed !== undefined && samePayload(this.confirmed, this.wanted);
  }

  private setState(state: RadioState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  private onState(state: RadioState): void {
    this.options.logger.info({ state }, 'bluetooth adapter state');
    // Whatever was in flight or on air belonged to the previous adapter session.
    this.clearTimers();
    this.operation = null;
    this.confirmed = null;
    this.setState(state);
    this.reconcile();
  }

  /** Issues the one operation that moves the controller towards the wanted payload. */
  private reconcile(force = false): void {
    const bleno = this.bleno;
    if (!this.running || !bleno || this.state !== 'poweredOn' || this.operation || this.retryTimer) return;
    const wanted = this.wanted;
    if (wanted === null) {
      if (this.confirmed === null) return;
      this.begin({ kind: 'stop' }, () => bleno.stopAdvertising());
    } else {
      if (!force && this.confirmed && samePayload(this.confirmed, wanted)) return;
      this.begin({ kind: 'start', payload: wanted }, () => bleno.startAdvertisingWithEIRData(wanted.advertisingData, wanted.scanResponse));
    }
  }

  private begin(operation: Operation, send: () => void): void {
    this.operation = operation;
    const timeoutMs = this.options.confirmTimeoutMs ?? 3_000;
    this.confirmTimer = setTimeout(() => {
      this.confirmTimer = null;
      this.operation = null;
      this.confirmed = undefined;
      this.fail(`controller did not confirm ${operation.kind} advertising within ${timeoutMs} ms`, () => this.reconcile(true));
    }, timeoutMs);
    try {
      send();
    } catch (error) {
      this.clearConfirmTimer();
      this.operation = null;
      this.confirmed = undefined;
      this.fail(`bleno refused to ${operation.kind} advertising: ${(error as Error).message}`, () => this.reconcile(true));
    }
  }

  private onStartConfirmed(error: Error | null): void {
    const operation = this.operation;
    if (operation?.kind !== 'start') return; // stray confirmation of an operation we gave up on
    this.clearConfirmTimer();
    this.operation = null;
    if (error) {
      this.confirmed = undefined;
      this.fail(`advertising start failed: ${error.message}`, () => this.reconcile(true));
      return;
    }
    this.succeed(operation.payload);
  }

  private onStopConfirmed(): void {
    if (this.operation?.kind !== 'stop') return;
    this.clearConfirmTimer();
    this.operation = null;
    this.succeed(null);
  }

  private succeed(payload: AdvertisingPayload | null): void {
    const changed = this.confirmed === undefined || !samePayload(this.confirmed, payload);
    this.confirmed = payload;
    this.backoff.reset();
    this.lastError = null;
    this.lastAppliedAt = this.now;
    if (changed) this.emit('applied', { payload, at: this.lastAppliedAt });
    this.reconcile();
  }

  /** Records the error and schedules `retry` with exponential backoff. */
  private fail(message: string, retry: () => void): void {
    this.lastError = message;
    const delay = this.backoff.next();
    this.options.logger.warn({ err: message, retryInMs: delay, failures: this.backoff.failures }, 'advertising failed; will retry');
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.running) retry();
    }, delay);
  }

  private refresh(): void {
    if (this.wanted && !this.operation) this.reconcile(true);
  }

  private clearConfirmTimer(): void {
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    this.confirmTimer = null;
  }

  private clearTimers(): void {
    this.clearConfirmTimer();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
