/**
 * The GATT check-in service on `@abandonware/bleno` (docs/gateway.md §The check-in service): one
 * PrimaryService with the `challenge`, `checkin` and `receipt` characteristics of docs/protocol.md
 * §Proof of proximity, answered by CheckinService (checkin-service.ts). No bleno import: the
 * BlenoAdvertiser, which loads bleno lazily, hands it over with attach() and takes it back with
 * detach(), so a machine where bleno cannot load still runs the daemon.
 *
 * - Connections are keyed by the peer's address from bleno's `accept`; everything the service
 *   holds for one is dropped on `disconnect` (a phone gone mid-write leaves nothing behind).
 * - bleno 0.6's HCI bindings serve one central at a time (one handle, one ATT stream): phones take
 *   turns. A second `accept` while one is connected means bleno moved to the new link, so the older
 *   one is forgotten here too. To keep turns short the gateway ends a connection
 *   `connectionLimitMs` after it began and `receiptLingerMs` after its receipt; bleno restarts
 *   advertising when a link ends (the controller stops connectable advertising on a connection).
 * - Reads honour the offset of a long read (Read Blob): only offset 0 issues a new challenge.
 * - The write is answered at the ATT level with success whenever a receipt was given; the verdict
 *   is the receipt, notified to a subscriber and readable afterwards on the same connection.
 * - Errors are logged, never thrown into bleno's socket handler.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import {
  ATTENDANCE_SERVICE_UUID, CHALLENGE_CHAR_UUID, CHECKIN_CHAR_UUID, NONCE_TTL_MS, RECEIPT_CHAR_UUID,
} from '../../shared/checkin.js';
import type { Advertiser } from './advertiser.js';
import type { CheckinService } from './checkin-service.js';

/** ATT error codes bleno passes through (Core v5.3 Vol 3 Part F §3.4.1.1). */
const RESULT_SUCCESS = 0x00;
const RESULT_INVALID_OFFSET = 0x07;
const RESULT_UNLIKELY_ERROR = 0x0e;

type ReadCallback = (result: number, data: Buffer | null) => void;
type WriteCallback = (result: number) => void;
type Notify = (data: Buffer) => void;
type Listener = Parameters<EventEmitter['on']>[1];

interface CharacteristicOptions {
  uuid: string;
  properties: string[];
  onReadRequest?: (offset: number, callback: ReadCallback) => void;
  onWriteRequest?: (data: Buffer, offset: number, withoutResponse: boolean, callback: WriteCallback) => void;
  onSubscribe?: (maxValueSize: number, updateValueCallback: Notify) => void;
  onUnsubscribe?: () => void;
}

/** The part of bleno's API this file uses (bleno ships no types). */
interface BlenoGattApi extends EventEmitter {
  PrimaryService: new (options: { uuid: string; characteristics: unknown[] }) => unknown;
  Characteristic: new (options: CharacteristicOptions) => unknown;
  setServices(services: unknown[], callback?: (error?: Error | null) => void): void;
  disconnect(): void;
  updateRssi(): void;
}

/** What the BlenoAdvertiser calls once bleno is loaded, and before it lets bleno go. */
export interface BlenoAttachment {
  attach(bleno: EventEmitter): void;
  detach(): void;
}

/** An advertiser that can serve GATT on the adapter it drives (the BlenoAdvertiser). */
export interface GattHost {
  serveGatt(gatt: BlenoAttachment | null): void;
}

export function hostsGatt(advertiser: Advertiser): advertiser is Advertiser & GattHost {
  return typeof (advertiser as Partial<GattHost>).serveGatt === 'function';
}

export interface BlenoGattOptions {
  service: CheckinService;
  logger: Logger;
  /** The gateway ends a connection this long after it began (default NONCE_TTL_MS + 5 s). */
  connectionLimitMs?: number;
  /** ... and this long after its receipt (default 1 s), so the next phone gets its turn. */
  receiptLingerMs?: number;
}

/** Slices a value for a read at `offset`, as bleno does for static values only. */
function readAt(value: Buffer | null, offset: number, callback: ReadCallback): void {
  if (!value) callback(RESULT_UNLIKELY_ERROR, null);
  else if (offset > value.length) callback(RESULT_INVALID_OFFSET, null);
  else callback(RESULT_SUCCESS, value.subarray(offset));
}

export class BlenoGatt implements BlenoAttachment {
  private bleno: BlenoGattApi | null = null;
  /** The peer address of the connection bleno serves now. */
  private current: string | null = null;
  private notify: Notify | null = null;
  private limitTimer: NodeJS.Timeout | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  private readonly listeners: Array<[string, Listener]> = [];

  constructor(private readonly options: BlenoGattOptions) {}

  attach(loaded: EventEmitter): void {
    if (this.bleno) return;
    const bleno = loaded as BlenoGattApi;
    try {
      const service = new bleno.PrimaryService({ uuid: ATTENDANCE_SERVICE_UUID, characteristics: this.characteristics(bleno) });
      this.listen(bleno, 'accept', (address: string) => this.onAccept(address));
      this.listen(bleno, 'disconnect', (address: string) => this.onDisconnect(address));
      this.listen(bleno, 'rssiUpdate', (rssi: number) => this.onRssi(rssi));
      bleno.setServices([service], (error) => {
        if (error) this.options.logger.error({ err: error.message }, 'check-in service could not be set');
      });
      this.bleno = bleno;
      this.options.logger.info({ service: ATTENDANCE_SERVICE_UUID }, 'check-in service ready');
    } catch (err) {
      this.unlisten(bleno);
      this.options.logger.error({ err }, 'check-in service could not be set');
    }
  }

  detach(): void {
    const bleno = this.bleno;
    if (!bleno) return;
    this.unlisten(bleno);
    this.endConnection();
    this.options.service.clear();
    this.bleno = null;
    try {
      bleno.setServices([]);
    } catch (err) {
      this.options.logger.warn({ err }, 'check-in service could not be removed');
    }
  }

  private characteristics(bleno: BlenoGattApi): unknown[] {
    const { service } = this.options;
    return [
      new bleno.Characteristic({
        uuid: CHALLENGE_CHAR_UUID,
        properties: ['read'],
        onReadRequest: (offset, callback) =>
          this.answerRead(callback, (peer) => (offset === 0 ? service.challenge(peer) : service.currentChallenge(peer)), offset),
      }),
      new bleno.Characteristic({
        uuid: CHECKIN_CHAR_UUID,
        properties: ['write'],
        onWriteRequest: (data, offset, _withoutResponse, callback) => this.onCheckin(data, offset, callback),
      }),
      new bleno.Characteristic({
        uuid: RECEIPT_CHAR_UUID,
        properties: ['read', 'notify'],
        onReadRequest: (offset, callback) => this.answerRead(callback, (peer) => service.receipt(peer), offset),
        onSubscribe: (_maxValueSize, updateValueCallback) => {
          this.notify = updateValueCallback;
        },
        onUnsubscribe: () => {
          this.notify = null;
        },
      }),
    ];
  }

  private answerRead(callback: ReadCallback, value: (peer: string) => Buffer | null, offset: number): void {
    try {
      readAt(this.current ? value(this.current) : null, offset, callback);
    } catch (err) {
      this.options.logger.error({ err }, 'check-in read failed');
      callback(RESULT_UNLIKELY_ERROR, null);
    }
  }

  private onCheckin(data: Buffer, offset: number, callback: WriteCallback): void {
    const peer = this.current;
    try {
      // A write at an offset is not a whole check-in value: the service answers it `malformed`.
      const receipt = peer ? this.options.service.checkin(peer, offset === 0 ? data : Buffer.alloc(0)) : null;
      const bytes = peer && receipt ? this.options.service.receipt(peer) : null;
      if (!bytes) {
        callback(RESULT_UNLIKELY_ERROR);
        return;
      }
      callback(RESULT_SUCCESS);
      this.notify?.(bytes);
      // A phone's address is personal data: only at debug (docs/privacy.md).
      this.options.logger.info({ status: receipt!.status, w: receipt!.w }, 'check-in received');
      this.options.logger.debug({ peer }, 'check-in received from');
      this.armLinger(peer!);
    } catch (err) {
      this.options.logger.error({ err }, 'check-in write failed');
      callback(RESULT_UNLIKELY_ERROR);
    }
  }

  private onAccept(address: string): void {
    const { service, logger } = this.options;
    if (this.current && this.current !== address) {
      logger.warn('a second central connected; bleno serves the newer link only');
      service.disconnect(this.current);
    }
    this.endConnection();
    if (!service.connect(address, address)) {
      this.disconnectPeer(address);
      return;
    }
    this.current = address;
    logger.debug({ peer: address }, 'check-in connection');
    const limitMs = this.options.connectionLimitMs ?? NONCE_TTL_MS + 5_000;
    this.limitTimer = setTimeout(() => this.disconnectPeer(address), limitMs);
    this.limitTimer.unref();
    try {
      this.bleno?.updateRssi();
    } catch (err) {
      logger.warn({ err }, 'RSSI of the check-in connection could not be read');
    }
  }

  private onDisconnect(address: string): void {
    this.options.service.disconnect(address);
    if (this.current === address) this.endConnection();
  }

  private onRssi(rssi: number): void {
    if (this.current) this.options.service.rssi(this.current, rssi);
  }

  private armLinger(peer: string): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = setTimeout(() => this.disconnectPeer(peer), this.options.receiptLingerMs ?? 1_000);
    this.lingerTimer.unref();
  }

  /** Ends the link to `peer` if bleno still serves it. */
  private disconnectPeer(peer: string): void {
    if (this.current !== null && this.current !== peer) return;
    try {
      this.bleno?.disconnect();
    } catch (err) {
      this.options.logger.warn({ err }, 'check-in connection could not be ended');
    }
  }

  private endConnection(): void {
    if (this.limitTimer) clearTimeout(this.limitTimer);
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.limitTimer = this.lingerTimer = null;
    this.current = null;
    this.notify = null;
  }

  private listen<A extends unknown[]>(bleno: BlenoGattApi, event: string, listener: (...args: A) => void): void {
    bleno.on(event, listener);
    this.listeners.push([event, listener as Listener]);
  }

  private unlisten(bleno: BlenoGattApi): void {
    for (const [event, listener] of this.listeners) bleno.off(event, listener);
    this.listeners.length = 0;
  }
}
