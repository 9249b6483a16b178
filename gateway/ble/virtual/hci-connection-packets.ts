/**
 * HCI layouts of LE connections (Bluetooth Core spec v5.3, Vol 4, Part E): the ACL data packet
 * (§5.4.2), the parameters of the connection commands the virtual controller executes, and the
 * events it raises for a connection. Pure functions, no state: the connection logic lives in
 * connections.ts. Every layout here is checked byte by byte in test/ble/hci-connection-packets.test.ts.
 */
import { EVT_LE_META, HCI_EVENT_PKT, addressToBytesLE } from './hci-packets.js';

export const HCI_ACLDATA_PKT = 0x02;

export const EVT_DISCONNECTION_COMPLETE = 0x05;
export const EVT_READ_REMOTE_VERSION_COMPLETE = 0x0c;
export const EVT_NUMBER_OF_COMPLETED_PACKETS = 0x13;
export const EVT_DATA_BUFFER_OVERFLOW = 0x1a;

export const LE_SUBEVENT_CONNECTION_COMPLETE = 0x01;
export const LE_SUBEVENT_CONNECTION_UPDATE_COMPLETE = 0x03;
export const LE_SUBEVENT_READ_REMOTE_FEATURES_COMPLETE = 0x04;
export const LE_SUBEVENT_ENHANCED_CONNECTION_COMPLETE = 0x0a;

/** Error codes of Vol 1 Part F §1.3 used by connections. */
export const STATUS_CONNECTION_TIMEOUT = 0x08;
export const STATUS_CONNECTION_LIMIT_EXCEEDED = 0x09;
export const STATUS_CONNECTION_ALREADY_EXISTS = 0x0b;
export const STATUS_REMOTE_USER_TERMINATED = 0x13;
export const STATUS_LOCAL_HOST_TERMINATED = 0x16;
export const STATUS_CONNECTION_FAILED_TO_ESTABLISH = 0x3e;

/** Reasons HCI_Disconnect accepts (Vol 4 Part E §7.1.6). */
export const DISCONNECT_REASONS: ReadonlySet<number> = new Set([0x05, 0x13, 0x14, 0x15, 0x1a, 0x29, 0x3b]);

export const ROLE_CENTRAL = 0x00;
export const ROLE_PERIPHERAL = 0x01;

/** Packet_Boundary_Flag (§5.4.2): host → controller start (non-flushable or flushable), continuation. */
export const PB_FIRST_NON_FLUSHABLE = 0b00;
export const PB_CONTINUING = 0b01;
export const PB_FIRST_FLUSHABLE = 0b10;

export const MAX_CONNECTION_HANDLE = 0x0eff;

function event(code: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([HCI_EVENT_PKT, code, body.length]), body]);
}

export interface AclPacket {
  handle: number;
  /** Packet_Boundary_Flag, 2 bits. */
  boundary: number;
  /** Broadcast_Flag, 2 bits (0b00 point-to-point on LE). */
  broadcast: number;
  data: Buffer;
}

/** ACL data packet (§5.4.2): `02 <handle 12 bits | PB << 12 | BC << 14, LE> <length LE> <data>`. */
export function aclPacket(packet: AclPacket): Buffer {
  const out = Buffer.alloc(5 + packet.data.length);
  out[0] = HCI_ACLDATA_PKT;
  out.writeUInt16LE((packet.handle & 0x0fff) | ((packet.boundary & 0b11) << 12) | ((packet.broadcast & 0b11) << 14), 1);
  out.writeUInt16LE(packet.data.length, 3);
  packet.data.copy(out, 5);
  return out;
}

/** Parses a whole ACL data packet; null when the header or the length does not add up. */
export function parseAclPacket(packet: Buffer): AclPacket | null {
  if (packet.length < 5 || packet[0] !== HCI_ACLDATA_PKT) return null;
  const header = packet.readUInt16LE(1);
  const length = packet.readUInt16LE(3);
  if (packet.length !== 5 + length) return null;
  return { handle: header & 0x0fff, boundary: (header >> 12) & 0b11, broadcast: (header >> 14) & 0b11, data: Buffer.from(packet.subarray(5)) };
}

/** Connection parameters in controller units: interval × 1.25 ms, timeout × 10 ms. */
export interface ConnectionParameters {
  intervalUnits: number;
  latency: number;
  timeoutUnits: number;
}

export interface CreateConnection {
  scanInterval: number;
  scanWindow: number;
  filterPolicy: number;
  peerAddressType: number;
  /** "aa:bb:cc:dd:ee:ff", most significant byte first. */
  peerAddress: string;
  ownAddressType: number;
  intervalMin: number;
  intervalMax: number;
  maxLatency: number;
  timeoutUnits: number;
}

function addressFromLE(bytes: Buffer): string {
  return Buffer.from(bytes).reverse().toString('hex').match(/.{2}/g)!.join(':');
}

/**
 * The connection interval, latency and supervision timeout ranges shared by LE Create Connection
 * (§7.8.12) and LE Connection Update (§7.8.18), including "Supervision_Timeout in milliseconds
 * shall be larger than (1 + Max_Latency) × Connection_Interval_Max × 2".
 */
function validConnectionRanges(intervalMin: number, intervalMax: number, latency: number, timeoutUnits: number): boolean {
  if (intervalMin < 0x0006 || intervalMax > 0x0c80 || intervalMin > intervalMax) return false;
  if (latency > 0x01f3 || timeoutUnits < 0x000a || timeoutUnits > 0x0c80) return false;
  return timeoutUnits * 10 > (1 + latency) * intervalMax * 1.25 * 2;
}

/**
 * LE Create Connection parameters (§7.8.12), 25 octets: scan interval, scan window, initiator
 * filter policy, peer address type, peer address, own address type, interval min/max, max
 * latency, supervision timeout, min/max CE length. Null when the length or a range is invalid.
 */
export function parseLeCreateConnection(parameters: Buffer): CreateConnection | null {
  if (parameters.length !== 25) return null;
  const command: CreateConnection = {
    scanInterval: parameters.readUInt16LE(0),
    scanWindow: parameters.readUInt16LE(2),
    filterPolicy: parameters[4]!,
    peerAddressType: parameters[5]!,
    peerAddress: addressFromLE(parameters.subarray(6, 12)),
    ownAddressType: parameters[12]!,
    intervalMin: parameters.readUInt16LE(13),
    intervalMax: parameters.readUInt16LE(15),
    maxLatency: parameters.readUInt16LE(17),
    timeoutUnits: parameters.readUInt16LE(19),
  };
  if (command.scanInterval < 0x0004 || command.scanInterval > 0x4000 || command.scanWindow < 0x0004 || command.scanWindow > command.scanInterval) return null;
  if (command.filterPolicy > 0x01 || command.peerAddressType > 0x03 || command.ownAddressType > 0x03) return null;
  if (!validConnectionRanges(command.intervalMin, command.intervalMax, command.maxLatency, command.timeoutUnits)) return null;
  return command;
}

export interface ConnectionUpdate extends ConnectionParameters {
  handle: number;
}

/**
 * LE Connection Update parameters (§7.8.18), 14 octets: handle, interval min/max, max latency,
 * supervision timeout, min/max CE length. The controller picks interval = Connection_Interval_Max.
 */
export function parseLeConnectionUpdate(parameters: Buffer): ConnectionUpdate | null {
  if (parameters.length !== 14) return null;
  const handle = parameters.readUInt16LE(0);
  const intervalMin = parameters.readUInt16LE(2);
  const intervalMax = parameters.readUInt16LE(4);
  const latency = parameters.readUInt16LE(6);
  const timeoutUnits = parameters.readUInt16LE(8);
  if (handle > MAX_CONNECTION_HANDLE || !validConnectionRanges(intervalMin, intervalMax, latency, timeoutUnits)) return null;
  return { handle, intervalUnits: intervalMax, latency, timeoutUnits };
}

/** Disconnect parameters (§7.1.6), 3 octets: handle, reason. */
export function parseDisconnect(parameters: Buffer): { handle: number; reason: number } | null {
  if (parameters.length !== 3) return null;
  return { handle: parameters.readUInt16LE(0), reason: parameters[2]! };
}

/** Disconnection Complete (§7.7.5): `04 05 04 <status> <handle LE> <reason>`. */
export function disconnectionComplete(status: number, handle: number, reason: number): Buffer {
  const body = Buffer.alloc(4);
  body[0] = status;
  body.writeUInt16LE(handle, 1);
  body[3] = reason;
  return event(EVT_DISCONNECTION_COMPLETE, body);
}

/**
 * Number Of Completed Packets (§7.7.19) for one handle: `04 13 05 01 <handle LE> <count LE>`.
 * One handle per event, so the array layout question of §5.2 never arises.
 */
export function numberOfCompletedPackets(handle: number, count: number): Buffer {
  const body = Buffer.alloc(5);
  body[0] = 1;
  body.writeUInt16LE(handle, 1);
  body.writeUInt16LE(count, 3);
  return event(EVT_NUMBER_OF_COMPLETED_PACKETS, body);
}

/** Data Buffer Overflow (§7.7.26): `04 1A 01 <link type>`, 0x01 = ACL. */
export function dataBufferOverflow(): Buffer {
  return event(EVT_DATA_BUFFER_OVERFLOW, Buffer.from([0x01]));
}

export interface ConnectionCompleteFields extends ConnectionParameters {
  status: number;
  handle: number;
  role: number;
  peerAddressType: number;
  peerAddress: string;
  /** Central_Clock_Accuracy (0x00 on the central, §7.7.65.1). */
  clockAccuracy: number;
}

function writeConnectionTail(body: Buffer, offset: number, fields: ConnectionCompleteFields): void {
  body.writeUInt16LE(fields.intervalUnits, offset);
  body.writeUInt16LE(fields.latency, offset + 2);
  body.writeUInt16LE(fields.timeoutUnits, offset + 4);
  body[offset + 6] = fields.clockAccuracy;
}

/**
 * LE Connection Complete (§7.7.65.1), 19 parameter octets: subevent 01, status, handle, role,
 * peer address type, peer address, interval, latency, supervision timeout, clock accuracy.
 */
export function leConnectionComplete(fields: ConnectionCompleteFields): Buffer {
  const body = Buffer.alloc(19);
  body[0] = LE_SUBEVENT_CONNECTION_COMPLETE;
  body[1] = fields.status;
  body.writeUInt16LE(fields.handle, 2);
  body[4] = fields.role;
  body[5] = fields.peerAddressType;
  addressToBytesLE(fields.peerAddress).copy(body, 6);
  writeConnectionTail(body, 12, fields);
  return event(EVT_LE_META, body);
}

/**
 * LE Enhanced Connection Complete (§7.7.65.10), 31 parameter octets: as LE Connection Complete
 * with the local and peer resolvable private addresses (zero: no privacy) after the peer address.
 */
export function leEnhancedConnectionComplete(fields: ConnectionCompleteFields): Buffer {
  const body = Buffer.alloc(31);
  body[0] = LE_SUBEVENT_ENHANCED_CONNECTION_COMPLETE;
  body[1] = fields.status;
  body.writeUInt16LE(fields.handle, 2);
  body[4] = fields.role;
  body[5] = fields.peerAddressType;
  addressToBytesLE(fields.peerAddress).copy(body, 6);
  writeConnectionTail(body, 24, fields);
  return event(EVT_LE_META, body);
}

/** LE Connection Update Complete (§7.7.65.3), 10 parameter octets. */
export function leConnectionUpdateComplete(status: number, handle: number, parameters: ConnectionParameters): Buffer {
  const body = Buffer.alloc(10);
  body[0] = LE_SUBEVENT_CONNECTION_UPDATE_COMPLETE;
  body[1] = status;
  body.writeUInt16LE(handle, 2);
  body.writeUInt16LE(parameters.intervalUnits, 4);
  body.writeUInt16LE(parameters.latency, 6);
  body.writeUInt16LE(parameters.timeoutUnits, 8);
  return event(EVT_LE_META, body);
}

/** LE Read Remote Features Complete (§7.7.65.4), 12 parameter octets: features are 8 octets. */
export function leReadRemoteFeaturesComplete(status: number, handle: number, features: Buffer): Buffer {
  if (features.length !== 8) throw new RangeError('LE_Features is 8 octets');
  const body = Buffer.alloc(12);
  body[0] = LE_SUBEVENT_READ_REMOTE_FEATURES_COMPLETE;
  body[1] = status;
  body.writeUInt16LE(handle, 2);
  features.copy(body, 4);
  return event(EVT_LE_META, body);
}

export interface RemoteVersion {
  version: number;
  companyId: number;
  subversion: number;
}

/** Read Remote Version Information Complete (§7.7.12): `04 0C 08 <status> <handle> <version> <company> <subversion>`. */
export function readRemoteVersionComplete(status: number, handle: number, remote: RemoteVersion): Buffer {
  const body = Buffer.alloc(8);
  body[0] = status;
  body.writeUInt16LE(handle, 1);
  body[3] = remote.version;
  body.writeUInt16LE(remote.companyId, 4);
  body.writeUInt16LE(remote.subversion, 6);
  return event(EVT_READ_REMOTE_VERSION_COMPLETE, body);
}
