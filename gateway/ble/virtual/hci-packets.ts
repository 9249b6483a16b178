/**
 * HCI packet layouts the virtual controller speaks (Bluetooth Core spec v5.3, Vol 4, Part E,
 * §5.4 packet formats and §7 commands/events). Pure functions: no I/O, no state.
 *
 * Every opcode bleno 0.6.2 and noble 1.9.2-26 send is listed here (read from their
 * lib/hci-socket/hci.js; see docs/radio.md §HCI commands answered), with the name used in the log.
 */

/** HCI packet indicators (UART transport, Vol 4 Part A §2), also used by Linux raw sockets. */
export const HCI_COMMAND_PKT = 0x01;
export const HCI_EVENT_PKT = 0x04;

export const EVT_CMD_COMPLETE = 0x0e;
export const EVT_CMD_STATUS = 0x0f;
export const EVT_LE_META = 0x3e;
export const LE_SUBEVENT_ADVERTISING_REPORT = 0x02;

/** Advertising report event types (Vol 4 Part E §7.7.65.2). */
export const ADV_IND = 0x00;
export const SCAN_RSP = 0x04;

/** Error codes (Vol 1 Part F). */
export const STATUS_SUCCESS = 0x00;
export const STATUS_UNKNOWN_COMMAND = 0x01;
export const STATUS_UNKNOWN_CONNECTION = 0x02;
export const STATUS_COMMAND_DISALLOWED = 0x0c;
export const STATUS_UNSUPPORTED_FEATURE = 0x11;
export const STATUS_INVALID_PARAMETERS = 0x12;

const op = (ogf: number, ocf: number): number => (ogf << 10) | ocf;

export const Opcode = {
  Disconnect: op(0x01, 0x0006),
  ReadRemoteVersion: op(0x01, 0x001d),
  SetEventMask: op(0x03, 0x0001),
  Reset: op(0x03, 0x0003),
  ReadLeHostSupported: op(0x03, 0x006c),
  WriteLeHostSupported: op(0x03, 0x006d),
  ReadLocalVersion: op(0x04, 0x0001),
  ReadLocalSupportedCommands: op(0x04, 0x0002),
  ReadBufferSize: op(0x04, 0x0005),
  ReadBdAddr: op(0x04, 0x0009),
  ReadRssi: op(0x05, 0x0005),
  LeSetEventMask: op(0x08, 0x0001),
  LeReadBufferSize: op(0x08, 0x0002),
  LeSetRandomAddress: op(0x08, 0x0005),
  LeSetAdvertisingParameters: op(0x08, 0x0006),
  LeSetAdvertisingData: op(0x08, 0x0008),
  LeSetScanResponseData: op(0x08, 0x0009),
  LeSetAdvertiseEnable: op(0x08, 0x000a),
  LeSetScanParameters: op(0x08, 0x000b),
  LeSetScanEnable: op(0x08, 0x000c),
  LeCreateConnection: op(0x08, 0x000d),
  LeCreateConnectionCancel: op(0x08, 0x000e),
  LeConnectionUpdate: op(0x08, 0x0013),
  LeReadRemoteFeatures: op(0x08, 0x0016),
  LeStartEncryption: op(0x08, 0x0019),
  LeLtkNegativeReply: op(0x08, 0x001b),
  LeSetDataLength: op(0x08, 0x0022),
  LeSetDefaultPhy: op(0x08, 0x0031),
  LeSetExtendedScanParameters: op(0x08, 0x0041),
  LeSetExtendedScanEnable: op(0x08, 0x0042),
  LeExtendedCreateConnection: op(0x08, 0x0043),
} as const;

const NAMES = new Map<number, string>(Object.entries(Opcode).map(([name, code]) => [code, name]));

export function opcodeName(opcode: number): string {
  return NAMES.get(opcode) ?? `0x${opcode.toString(16).padStart(4, '0')}`;
}

export interface HciCommand {
  opcode: number;
  parameters: Buffer;
}

/** Parses `01 <opcode LE> <len> <parameters>`; null when the packet is not a whole command. */
export function parseHciCommand(packet: Buffer): HciCommand | null {
  if (packet.length < 4 || packet[0] !== HCI_COMMAND_PKT) return null;
  const length = packet[3]!;
  if (packet.length < 4 + length) return null;
  return { opcode: packet.readUInt16LE(1), parameters: Buffer.from(packet.subarray(4, 4 + length)) };
}

function event(code: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([HCI_EVENT_PKT, code, body.length]), body]);
}

/** Command Complete (§7.7.14): `04 0E <len> <num cmds> <opcode LE> <status> <result>`. */
export function commandComplete(opcode: number, status: number, result: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.alloc(4 + result.length);
  body[0] = 1; // Num_HCI_Command_Packets: the host may send one more command
  body.writeUInt16LE(opcode, 1);
  body[3] = status;
  result.copy(body, 4);
  return event(EVT_CMD_COMPLETE, body);
}

/** Command Status (§7.7.15): `04 0F 04 <status> <num cmds> <opcode LE>`. */
export function commandStatus(opcode: number, status: number): Buffer {
  const body = Buffer.alloc(4);
  body[0] = status;
  body[1] = 1;
  body.writeUInt16LE(opcode, 2);
  return event(EVT_CMD_STATUS, body);
}

export interface AdvertisingReport {
  eventType: number;
  /** Public device address, "aa:bb:cc:dd:ee:ff" (most significant byte first). */
  address: string;
  data: Buffer;
  rssi: number;
}

export function addressToBytesLE(address: string): Buffer {
  const bytes = Buffer.from(address.replace(/:/g, ''), 'hex');
  if (bytes.length !== 6) throw new RangeError(`BD_ADDR must be 6 bytes, got "${address}"`);
  return bytes.reverse();
}

/**
 * LE Advertising Report (§7.7.65.2), one report per event:
 * `04 3E <len> 02 01 <event type> <addr type> <addr 6 LE> <data len> <data> <rssi int8>`.
 */
export function leAdvertisingReport(report: AdvertisingReport): Buffer {
  if (report.data.length > 31) throw new RangeError('legacy advertising data is at most 31 bytes');
  const body = Buffer.alloc(2 + 1 + 1 + 6 + 1 + report.data.length + 1);
  let i = 0;
  body[i++] = LE_SUBEVENT_ADVERTISING_REPORT;
  body[i++] = 1; // Num_Reports
  body[i++] = report.eventType;
  body[i++] = 0x00; // public device address
  addressToBytesLE(report.address).copy(body, i);
  i += 6;
  body[i++] = report.data.length;
  report.data.copy(body, i);
  i += report.data.length;
  body.writeInt8(Math.max(-127, Math.min(20, Math.round(report.rssi))), i);
  return event(EVT_LE_META, body);
}

/** The significant part of LE Set Advertising / Scan Response Data: `<len> <31 bytes>` (§7.8.7). */
export function significantData(parameters: Buffer): Buffer | null {
  if (parameters.length !== 32) return null;
  const length = parameters[0]!;
  if (length > 31) return null;
  return Buffer.from(parameters.subarray(1, 1 + length));
}
