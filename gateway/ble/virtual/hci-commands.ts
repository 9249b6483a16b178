/**
 * How the virtual controller answers each HCI command that is not about a connection (Core v5.3
 * Vol 4 Part E §7). Result lengths are those of the spec, which are also what bleno 0.6.2 and
 * noble 1.9.2-26 read (their lib/hci-socket/hci.js processCmdCompleteEvent); see docs/radio.md
 * §HCI commands answered. Connection commands (LE Create Connection, Disconnect, Read RSSI, …)
 * are answered by connections.ts, which the controller asks first.
 */
import { LE_ACL_PACKETS, LE_ACL_PACKET_LENGTH } from './connections.js';
import type { LinkLayerState } from './controller.js';
import {
  Opcode,
  STATUS_COMMAND_DISALLOWED,
  STATUS_INVALID_PARAMETERS,
  STATUS_SUCCESS,
  STATUS_UNKNOWN_COMMAND,
  addressToBytesLE,
  commandComplete,
  significantData,
  type HciCommand,
} from './hci-packets.js';

export interface CommandAnswer {
  status: number;
  event: Buffer;
  /** HCI_Reset: the controller drops its link-layer state. */
  reset?: boolean;
  /** Events that follow the answer (the controller queues them after it). */
  after?: () => void;
}

/** Read Local Version Information (§7.4.1): HCI 5.0, manufacturer 0xFFFF (testing). 8 bytes. */
function localVersion(): Buffer {
  const result = Buffer.alloc(8);
  result[0] = 0x09; // HCI_Version 5.0; bleno/noble need >= 0x06 (4.0) or report 'unsupported'
  result.writeUInt16LE(0x0000, 1); // HCI_Revision
  result[3] = 0x09; // LMP_Version 5.0
  result.writeUInt16LE(0xffff, 4); // Company_Identifier
  result.writeUInt16LE(0x0000, 6); // LMP_Subversion
  return result;
}

/**
 * Supported_Commands (§7.4.2, bit table §6.27), 64 octets. Octet 37 bits 4/5 (LE Set Extended
 * Scan Parameters/Enable) stay clear so noble keeps legacy scanning and legacy reports.
 */
function supportedCommands(): Buffer {
  const bits = Buffer.alloc(64);
  bits[0] = 0x20; // Disconnect
  bits[2] = 0x80; // Read Remote Version Information
  bits[5] = 0xc0; // Set Event Mask, Reset
  bits[14] = 0x08; // Read Local Version Information
  bits[15] = 0x22; // Read BD_ADDR, Read RSSI
  bits[25] = 0xb3; // LE Set Event Mask, LE Read Buffer Size, LE Set Random Address, LE Set Advertising Parameters, LE Set Advertising Data
  bits[26] = 0x3f; // LE Set Scan Response Data, LE Set Advertising Enable, LE Set Scan Parameters, LE Set Scan Enable, LE Create Connection (Cancel)
  bits[27] = 0x24; // LE Connection Update, LE Read Remote Features
  return bits;
}

const ok = (opcode: number, result?: Buffer): CommandAnswer => ({ status: STATUS_SUCCESS, event: commandComplete(opcode, STATUS_SUCCESS, result) });
const fail = (opcode: number, status: number, result?: Buffer): CommandAnswer => ({ status, event: commandComplete(opcode, status, result) });

/** Answers `command`, mutating `state` as the controller would. */
export function answerCommand(command: HciCommand, state: LinkLayerState, address: string): CommandAnswer {
  const { opcode, parameters } = command;
  switch (opcode) {
    case Opcode.Reset:
      return { ...ok(opcode), reset: true };
    case Opcode.LeSetEventMask:
      // §7.8.1: which LE meta subevents the host wants (connections.ts honours it).
      if (parameters.length !== 8) return fail(opcode, STATUS_INVALID_PARAMETERS);
      state.leEventMask = Buffer.from(parameters);
      return ok(opcode);
    case Opcode.SetEventMask:
    case Opcode.WriteLeHostSupported:
    case Opcode.LeSetRandomAddress:
    case Opcode.LeSetDefaultPhy:
      return ok(opcode);
    case Opcode.ReadLeHostSupported:
      return ok(opcode, Buffer.from([0x01, 0x00])); // LE_Supported_Host, Simultaneous_LE_Host
    case Opcode.ReadLocalVersion:
      return ok(opcode, localVersion());
    case Opcode.ReadLocalSupportedCommands:
      return ok(opcode, supportedCommands());
    case Opcode.ReadBufferSize:
      // ACL_Data_Packet_Length(2)=27, SCO length(1)=0, Total_Num_ACL(2)=8, Total_Num_SCO(2)=0
      return ok(opcode, Buffer.from([LE_ACL_PACKET_LENGTH, 0, 0, LE_ACL_PACKETS, 0, 0, 0]));
    case Opcode.ReadBdAddr:
      return ok(opcode, addressToBytesLE(address));
    case Opcode.LeReadBufferSize:
      // LE_ACL_Data_Packet_Length(2)=27 (LE minimum), Total_Num_LE_ACL_Data_Packets(1)=8
      return ok(opcode, Buffer.from([LE_ACL_PACKET_LENGTH, 0, LE_ACL_PACKETS]));
    case Opcode.LeSetAdvertisingParameters:
      return setAdvertisingParameters(opcode, parameters, state);
    case Opcode.LeSetAdvertisingData:
    case Opcode.LeSetScanResponseData: {
      const data = significantData(parameters);
      if (!data) return fail(opcode, STATUS_INVALID_PARAMETERS);
      if (opcode === Opcode.LeSetAdvertisingData) state.advertisingData = data;
      else state.scanResponse = data;
      return ok(opcode);
    }
    case Opcode.LeSetAdvertiseEnable:
      if (parameters.length !== 1 || parameters[0]! > 1) return fail(opcode, STATUS_INVALID_PARAMETERS);
      // Enabling while enabled is allowed since Core 5.0 (§7.8.9); bleno does it on every update.
      state.advertisingEnabled = parameters[0] === 1;
      return ok(opcode);
    case Opcode.LeSetScanParameters:
      if (parameters.length !== 7) return fail(opcode, STATUS_INVALID_PARAMETERS);
      if (state.scanEnabled) return fail(opcode, STATUS_COMMAND_DISALLOWED); // §7.8.10
      state.activeScan = parameters[0] === 0x01;
      return ok(opcode);
    case Opcode.LeSetScanEnable:
      if (parameters.length !== 2 || parameters[0]! > 1) return fail(opcode, STATUS_INVALID_PARAMETERS);
      state.scanEnabled = parameters[0] === 1;
      state.filterDuplicates = parameters[1] === 1;
      return ok(opcode);
    default:
      // Includes LE Set Extended Scan Parameters/Enable and LE Set Data Length (no Data Length
      // Extension), which we do not claim to support.
      return fail(opcode, STATUS_UNKNOWN_COMMAND);
  }
}

/** LE Set Advertising Parameters (§7.8.5): 15 bytes; disallowed while advertising is enabled. */
function setAdvertisingParameters(opcode: number, parameters: Buffer, state: LinkLayerState): CommandAnswer {
  if (parameters.length !== 15) return fail(opcode, STATUS_INVALID_PARAMETERS);
  if (state.advertisingEnabled) return fail(opcode, STATUS_COMMAND_DISALLOWED);
  const intervalMin = parameters.readUInt16LE(0);
  if (intervalMin < 0x0020 || intervalMin > 0x4000) return fail(opcode, STATUS_INVALID_PARAMETERS);
  state.advertisingIntervalMs = intervalMin * 0.625;
  state.advertisingType = parameters[4]!;
  return ok(opcode);
}
