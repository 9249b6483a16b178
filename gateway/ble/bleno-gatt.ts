/**
 * The GATT check-in service on `@abandonware/bleno` (docs/gateway.md §The check-in service): one
 * PrimaryService with the `challenge`, `checkin` and `receipt` characteristics of docs/protocol.md
 * §Proof of proximity, answered by CheckinService (checkin-service.ts). No bleno import: the
 * BlenoAdvertiser, which loads bleno lazily, hands it over with attach() and takes it back with
 * detach(), so a machine where bleno cannot load still runs the daemon.
 *
 * - Several phones are served at once. bleno 0.6.2 alone holds one connection, so phones would
 *   take turns and the room's beacon would be off the air while one is connected; bleno-links.ts
 *   gives bleno a GATT server per connection handle and keeps advertising while a link is free.
 *   This file is that server: each link gets its OWN PrimaryService and characteristics, whose
 *   callbacks are bound to that link's connection in CheckinService (keyed by the handle, with the
 *   peer's address from the link), so a nonce issued on one link is unknown on every other.
 * - Everything the service holds for a link is dropped when it ends, whatever the reason (a phone
 *   gone mid-write, a supervision timeout): its nonce, receipt and link slot are freed and the
 *   other links are not touched.
 * - A link slot is never held for long: the gateway ends a link `connectionLimitMs` after it began
 *   and `receiptLingerMs` after its receipt (a phone that got its receipt has nothing left to do).
 * - Reads honour the offset of a long read (Read Blob): only offset 0 issues a new challenge.
 * - The write is answered at the ATT level with success whenever a receipt was given; the verdict
 *   is the receipt, notified to the link's subscriber and readable afterwards on the same link.
 * - Errors are logged, never thrown into bleno's socket handler.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import {
  ATTENDANCE_SERVICE_UUID, CHALLENGE_CHAR_UUID, CHECKIN_CHAR_UUID, NONCE_TTL_MS, RECEIPT_CHAR_UUID,
} from '../../shared/checkin.js';
import type { Advertiser } from './advertiser.js';
import type { BlenoLink, LinkServer } from './bleno-links.js';
import type { CheckinService } from './checkin-service.js';

/** ATT error codes bleno passes through (Core v5.3 Vol 3 Part F §3.4.1.1). */
const RESULT_SUCCESS = 0x00;
const RESULT_INVALID_OFFSET = 0x07;
const RESULT_UNLIKELY_ERROR = 0x0e;

type ReadCallback = (result: number, data: Buffer | null) => void;
type WriteCallback = (result: number) => void;
type Notify = (data: Buffer) => void;

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
}

/** The part of BlenoLinks (bleno-links.ts) this file uses. */
export interface LinkHost {
  serve(server: LinkServer | null): void;
  disconnect(handle: number): void;
  readRssi(handle: number): void;
}

/** What the BlenoAdvertiser calls once bleno is loaded with its links, and before it lets bleno go. */
export interface BlenoAttachment {
  attach(bleno: EventEmitter, links: LinkHost): void;
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
  /** The gateway ends a link this long after it began (default NONCE_TTL_MS + 5 s), so an idle phone frees its slot. */
  connectionLimitMs?: number;
  /** ... and this long after its receipt (default 1 s). */
  receiptLingerMs?: number;
}

/** One link being served: its connection id in CheckinService, its subscriber, its timers. */
interface Served {
  id: string;
  handle: number;
  peer: string;
  notify: Notify | null;
  limitTimer: NodeJS.Timeout;
  lingerTimer: NodeJS.Timeout | null;
}

/** Slices a value for a read at `offset`, as bleno does for static values only. */
function readAt(value: Buffer | null, offset: number, callback: ReadCallback): void {
  if (!value) callback(RESULT_UNLIKELY_ERROR, null);
  else if (offset > value.length) callback(RESULT_INVALID_OFFSET, null);
  else callback(RESULT_SUCCESS, value.subarray(offset));
}

export class BlenoGatt implements BlenoAttachment, LinkServer {
  private bleno: BlenoGattApi | null = null;
  private links: LinkHost | null = null;
  /** The links served, by connection handle. */
  private readonly served = new Map<number, Served>();

  constructor(private readonly options: BlenoGattOptions) {}

  attach(loaded: EventEmitter, links: LinkHost): void {
    if (this.bleno) return;
    try {
      links.serve(this);
      this.bleno = loaded as BlenoGattApi;
      this.links = links;
      this.options.logger.info({ service: ATTENDANCE_SERVICE_UUID }, 'check-in service ready');
    } catch (err) {
      this.options.logger.error({ err }, 'check-in service could not be set');
    }
  }

  /** Stops serving: new links get no check-in service, and the links served are ended. */
  detach(): void {
    const links = this.links;
    if (!links) return;
    this.bleno = this.links = null;
    try {
      links.serve(null);
    } catch (err) {
      this.options.logger.warn({ err }, 'check-in service could not be removed');
    }
    for (const served of this.served.values()) {
      this.stopTimers(served);
      this.end(links, served.handle);
    }
    this.served.clear();
    this.options.service.clear();
  }

  /** A link came up (LinkServer): its own service objects, bound to its own connection. */
  open(link: BlenoLink): unknown[] {
    const { bleno, links } = this;
    const { service, logger } = this.options;
    if (!bleno || !links) return [];
    const id = String(link.handle);
    if (!service.connect(id, link.address)) {
      this.end(links, link.handle);
      return [];
    }
    const limitMs = this.options.connectionLimitMs ?? NONCE_TTL_MS + 5_000;
    const served: Served = { id, handle: link.handle, peer: link.address, notify: null, lingerTimer: null, limitTimer: setTimeout(() => this.endLink(link.handle), limitMs) };
    served.limitTimer.unref();
    this.served.set(link.handle, served);
    logger.debug({ peer: link.address, handle: link.handle }, 'check-in connection');
    try {
      links.readRssi(link.handle);
    } catch (err) {
      logger.warn({ err }, 'RSSI of the check-in connection could not be read');
    }
    return [new bleno.PrimaryService({ uuid: ATTENDANCE_SERVICE_UUID, characteristics: this.characteristics(bleno, served) })];
  }

  /** The link ended (LinkServer): its nonce and receipt go with it. */
  close(link: BlenoLink): void {
    const served = this.served.get(link.handle);
    if (!served) return;
    this.stopTimers(served);
    this.served.delete(link.handle);
    this.options.service.disconnect(served.id);
  }

  rssi(link: BlenoLink, dbm: number): void {
    const served = this.served.get(link.handle);
    if (served) this.options.service.rssi(served.id, dbm);
  }

  private characteristics(bleno: BlenoGattApi, link: Served): unknown[] {
    const { service } = this.options;
    return [
      new bleno.Characteristic({
        uuid: CHALLENGE_CHAR_UUID,
        properties: ['read'],
        onReadRequest: (offset, callback) =>
          this.answerRead(link, callback, (id) => (offset === 0 ? service.challenge(id) : service.currentChallenge(id)), offset),
      }),
      new bleno.Characteristic({
        uuid: CHECKIN_CHAR_UUID,
        properties: ['write'],
        onWriteRequest: (data, offset, _withoutResponse, callback) => this.onCheckin(link, data, offset, callback),
      }),
      new bleno.Characteristic({
        uuid: RECEIPT_CHAR_UUID,
        properties: ['read', 'notify'],
        onReadRequest: (offset, callback) => this.answerRead(link, callback, (id) => service.receipt(id), offset),
        onSubscribe: (_maxValueSize, updateValueCallback) => {
          link.notify = updateValueCallback;
        },
        onUnsubscribe: () => {
          link.notify = null;
        },
      }),
    ];
  }

  /** True while `link` is one this gateway serves (its callbacks may outlive it in bleno). */
  private serving(link: Served): boolean {
    return this.served.get(link.handle) === link;
  }

  private answerRead(link: Served, callback: ReadCallback, value: (id: string) => Buffer | null, offset: number): void {
    try {
      readAt(this.serving(link) ? value(link.id) : null, offset, callback);
    } catch (err) {
      this.options.logger.error({ err }, 'check-in read failed');
      callback(RESULT_UNLIKELY_ERROR, null);
    }
  }

  private onCheckin(link: Served, data: Buffer, offset: number, callback: WriteCallback): void {
    const { service, logger } = this.options;
    try {
      // A write at an offset is not a whole check-in value: the service answers it `malformed`.
      const receipt = this.serving(link) ? service.checkin(link.id, offset === 0 ? data : Buffer.alloc(0)) : null;
      const bytes = receipt ? service.receipt(link.id) : null;
      if (!receipt || !bytes) {
        callback(RESULT_UNLIKELY_ERROR);
        return;
      }
      callback(RESULT_SUCCESS);
      link.notify?.(bytes);
      // A phone's address is personal data: only at debug (docs/privacy.md).
      logger.info({ status: receipt.status, w: receipt.w }, 'check-in received');
      logger.debug({ peer: link.peer }, 'check-in received from');
      if (link.lingerTimer) clearTimeout(link.lingerTimer);
      link.lingerTimer = setTimeout(() => this.endLink(link.handle), this.options.receiptLingerMs ?? 1_000);
      link.lingerTimer.unref();
    } catch (err) {
      logger.error({ err }, 'check-in write failed');
      callback(RESULT_UNLIKELY_ERROR);
    }
  }

  /** Ends a link this gateway serves; its state goes when bleno reports the disconnection. */
  private endLink(handle: number): void {
    if (this.links && this.served.has(handle)) this.end(this.links, handle);
  }

  private end(links: LinkHost, handle: number): void {
    try {
      links.disconnect(handle);
    } catch (err) {
      this.options.logger.warn({ err }, 'check-in connection could not be ended');
    }
  }

  private stopTimers(served: Served): void {
    clearTimeout(served.limitTimer);
    if (served.lingerTimer) clearTimeout(served.lingerTimer);
    served.lingerTimer = null;
  }
}
