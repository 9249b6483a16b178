/**
 * The virtual "air": the medium between virtual controllers. An advertising controller
 * transmits one packet per advertising event (its advertising data and scan response); every
 * other controller joined to the same air hears it and, when scanning, turns it into LE
 * Advertising Reports for its host. Path loss is modelled at the receiver (see RssiModel), so
 * the same packet can reach two phones with different RSSI, as in a real room.
 *
 * Connections use the same air: link-layer PDUs addressed to one controller (air-link.ts).
 *
 * Three implementations: InProcessAir (this file), AirHub (hosts an air for other processes
 * over a socket) and RemoteAir (joins a hub) — see air-hub.ts.
 */
import { EventEmitter } from 'node:events';
import { linkPduFromJson, linkPduToJson, type LinkPdu, type LinkPduJson } from './air-link.js';

export interface AdvertisingPacket {
  kind?: 'adv';
  /** BD_ADDR of the transmitting controller, "aa:bb:cc:dd:ee:ff". */
  from: string;
  advertisingData: Buffer;
  scanResponse: Buffer;
  /** Wall-clock ms (fractional) of the advertising event at the transmitter. */
  at: number;
  /** False for non-connectable advertising (ADV_SCAN_IND, ADV_NONCONN_IND); absent means connectable. */
  connectable?: boolean;
}

/** What travels on the air: advertising events, and the link-layer PDUs of connections (air-link.ts). */
export type AirPacket = AdvertisingPacket | LinkPdu;

export function isAdvertising(packet: AirPacket): packet is AdvertisingPacket {
  return packet.kind === undefined || packet.kind === 'adv';
}

export type AirListener = (packet: AirPacket) => void;

export interface Air {
  /** Puts one advertising event on air; listeners are called asynchronously. */
  transmit(packet: AirPacket): void;
  /** Hears every packet on air (including the caller's own: filter by `from`). Returns unlisten. */
  listen(listener: AirListener): () => void;
  close(): Promise<void>;
}

/** Fans packets out to listeners of this process. Delivery is deferred, like a radio's latency. */
export class InProcessAir implements Air {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Any number of scanners may listen; the default cap of 10 is a leak heuristic, not a limit.
    this.emitter.setMaxListeners(0);
  }

  transmit(packet: AirPacket): void {
    setImmediate(() => this.deliver(packet));
  }

  /** Delivers now; used by the hub for packets that arrived from another process. */
  deliver(packet: AirPacket): void {
    this.emitter.emit('packet', packet);
  }

  listen(listener: AirListener): () => void {
    this.emitter.on('packet', listener);
    return () => this.emitter.off('packet', listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/** RSSI a receiver assigns to a packet: a fixed dBm value or a function of the transmitter. */
export type RssiModel = number | ((from: string) => number);

export interface RssiOptions {
  rssi?: RssiModel;
  /** Uniform noise added to every packet, ± this many dB (default 3). */
  rssiJitterDb?: number;
  random?: () => number;
}

export const DEFAULT_RSSI_DBM = -60;

export function rssiFor(from: string, options: RssiOptions): number {
  const model = options.rssi ?? DEFAULT_RSSI_DBM;
  const base = typeof model === 'function' ? model(from) : model;
  const jitter = options.rssiJitterDb ?? 3;
  const random = options.random ?? Math.random;
  return Math.round(base + (random() * 2 - 1) * jitter);
}

/** Serialised form of an advertising event between processes (one JSON object per line). */
export interface AdvertisingPacketJson {
  from: string;
  adv: string;
  scan: string;
  at: number;
  connectable?: boolean;
}

export type AirPacketJson = AdvertisingPacketJson | LinkPduJson;

export function packetToJson(packet: AirPacket): AirPacketJson {
  if (!isAdvertising(packet)) return linkPduToJson(packet);
  return {
    from: packet.from,
    adv: packet.advertisingData.toString('hex'),
    scan: packet.scanResponse.toString('hex'),
    at: packet.at,
    ...(packet.connectable !== undefined && { connectable: packet.connectable }),
  };
}

const ADDRESS_RE = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const HEX_RE = /^(?:[0-9a-f]{2}){0,31}$/;

/** Parses a packet from another process; null for anything malformed (never trust the wire). */
export function packetFromJson(value: unknown): AirPacket | null {
  if (typeof value !== 'object' || value === null) return null;
  if ('kind' in value) return linkPduFromJson(value as Record<string, unknown>);
  const { from, adv, scan, at, connectable } = value as Partial<Record<keyof AdvertisingPacketJson, unknown>>;
  if (typeof from !== 'string' || !ADDRESS_RE.test(from)) return null;
  if (typeof adv !== 'string' || !HEX_RE.test(adv)) return null;
  if (typeof scan !== 'string' || !HEX_RE.test(scan)) return null;
  if (typeof at !== 'number' || !Number.isFinite(at)) return null;
  if (connectable !== undefined && typeof connectable !== 'boolean') return null;
  return { from, advertisingData: Buffer.from(adv, 'hex'), scanResponse: Buffer.from(scan, 'hex'), at, ...(connectable !== undefined && { connectable }) };
}
