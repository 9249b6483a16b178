/**
 * A virtual Bluetooth LE controller: the chip behind /dev/hciN, minus the radio. Hosts (the
 * real bleno and noble, through VirtualHciSocket) send it HCI commands; it answers each one with
 * a correctly sized Command Complete or Command Status event (Core v5.3 Vol 4 Part E §7 — a
 * short result crashes bleno/noble with ERR_BUFFER_OUT_OF_BOUNDS, docs/radio.md), keeps the
 * advertising and scanning state a real controller keeps, puts its advertising on the virtual
 * air at the advertising interval and turns what it hears into LE Advertising Reports. It also
 * makes and carries LE connections (connections.ts): LE Create Connection, accepting one while
 * advertising, ACL data with flow control, disconnect and the supervision timeout.
 *
 * Every command is logged with a high-resolution wall-clock timestamp taken when the command
 * reached the controller, so a benchmark can measure when new advertising data arrived.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { isAdvertising, rssiFor, type Air, type AirPacket, type RssiOptions } from './air.js';
import type { LinkPdu } from './air-link.js';
import { Connections, type ConnectionInfo } from './connections.js';
import { answerCommand } from './hci-commands.js';
import { HCI_ACLDATA_PKT } from './hci-connection-packets.js';
import {
  ADV_IND,
  HCI_COMMAND_PKT,
  SCAN_RSP,
  commandComplete,
  leAdvertisingReport,
  opcodeName,
  parseHciCommand,
  type HciCommand,
} from './hci-packets.js';

/** Wall-clock ms with sub-millisecond resolution (monotonic between clock steps). */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface ControllerLogEntry {
  /** Wall-clock ms (fractional) when the command reached the controller. */
  at: number;
  opcode: number;
  command: string;
  /** The command's parameter bytes exactly as the host sent them. */
  parameters: Buffer;
  /** The status answered, or -1 when a 'silent' fault swallowed the command. */
  status: number;
}

/** The controller state a host can change with LE advertising/scanning commands. */
export interface LinkLayerState {
  advertisingEnabled: boolean;
  /** Significant part of LE Set Advertising Data (what goes on air). */
  advertisingData: Buffer;
  scanResponse: Buffer;
  /** Advertising_Interval_Min in ms (0x0800 × 0.625 ms = 1.28 s until the host sets it). */
  advertisingIntervalMs: number;
  advertisingType: number;
  scanEnabled: boolean;
  activeScan: boolean;
  filterDuplicates: boolean;
  /** LE_Event_Mask (§7.8.1), 8 octets; 0x1F until the host sets it. */
  leEventMask: Buffer;
}

/** Advertising_Type values that accept a connection (§7.8.5): ADV_IND and both ADV_DIRECT_IND. */
const CONNECTABLE_ADVERTISING = new Set([0x00, 0x01, 0x04]);

export interface VirtualControllerOptions extends RssiOptions {
  deviceId: number;
  /** Public BD_ADDR "aa:bb:cc:dd:ee:ff"; random by default. */
  address?: string;
  /** Where advertising goes and scanning listens; without one the controller is alone. */
  air?: Air;
  /** Transmit at this cadence instead of the advertising interval the host configured. */
  airIntervalMs?: number;
  /** Log entries kept (a ring); default 10 000. */
  logLimit?: number;
  /** Connections held at once, both roles together (default 8). */
  maxConnections?: number;
}

/**
 * A fault injected into one opcode: answer with an error status instead of executing it, or
 * stay silent (no event at all), as a hung or buggy controller does.
 */
export type CommandFault = { status: number } | 'silent';

/** A host-side endpoint (VirtualHciSocket) the controller delivers event packets to. */
export interface HciEndpoint {
  deliver(packet: Buffer): void;
}

function initialState(): LinkLayerState {
  return {
    advertisingEnabled: false,
    advertisingData: Buffer.alloc(0),
    scanResponse: Buffer.alloc(0),
    advertisingIntervalMs: 0x0800 * 0.625,
    advertisingType: ADV_IND,
    scanEnabled: false,
    activeScan: false,
    filterDuplicates: false,
    leEventMask: Buffer.from('1f00000000000000', 'hex'),
  };
}

function randomAddress(): string {
  return randomBytes(6).toString('hex').match(/.{2}/g)!.join(':');
}

/**
 * Events: 'command' (ControllerLogEntry), 'power' (boolean up), 'connection' ({handle, role,
 * peer}), 'disconnection' ({handle, peer, reason}), 'aclDropped' ({reason, handle?}).
 */
export class VirtualController extends EventEmitter {
  readonly deviceId: number;
  readonly address: string;
  private up = true;
  private state = initialState();
  private readonly endpoints = new Set<HciEndpoint>();
  private readonly entries: ControllerLogEntry[] = [];
  private outbox: Buffer[] = [];
  private flushScheduled = false;
  private airTimer: NodeJS.Timeout | null = null;
  private unlisten: (() => void) | null = null;
  private readonly seen = new Set<string>();
  private readonly faults = new Map<number, CommandFault>();
  private onAir = true;
  private scanning = false;
  private readonly links: Connections;

  constructor(private readonly options: VirtualControllerOptions) {
    super();
    this.deviceId = options.deviceId;
    this.address = (options.address ?? randomAddress()).toLowerCase();
    this.links = new Connections(
      {
        address: this.address,
        toHost: (packet) => this.queue(packet),
        transmit: (pdu) => this.transmitPdu(pdu),
        rssiOf: (from) => rssiFor(from, this.options),
        leEventEnabled: (bit) => ((this.state.leEventMask[bit >> 3]! >> (bit & 7)) & 1) === 1,
        advertisingConnectable: () => this.up && this.state.advertisingEnabled && CONNECTABLE_ADVERTISING.has(this.state.advertisingType),
        advertisingEndedByConnection: () => {
          // §7.8.9: legacy advertising is disabled when it creates a connection.
          this.state.advertisingEnabled = false;
          this.syncRadio();
        },
        onChange: () => this.syncRadio(),
        emit: (event, payload) => this.emit(event, payload),
      },
      options.maxConnections,
    );
  }

  attach(endpoint: HciEndpoint): void {
    this.endpoints.add(endpoint);
  }

  detach(endpoint: HciEndpoint): void {
    this.endpoints.delete(endpoint);
  }

  isUp(): boolean {
    return this.up;
  }

  /** Simulates `hciconfig hciN down` or a USB dongle pulled out: state is lost, nothing on air. */
  powerDown(): void {
    if (!this.up) return;
    this.up = false;
    this.outbox = [];
    this.resetState();
    this.emit('power', false);
  }

  /** Simulates the adapter coming back: a freshly reset controller the host must set up again. */
  powerUp(): void {
    if (this.up) return;
    this.up = true;
    this.emit('power', true);
  }

  /**
   * Takes the controller off the air (a phone carried out of the room, or a process whose air
   * connection is gone, as seen by the others): it neither sends nor hears anything, so its
   * links end on both sides with the supervision timeout (Disconnection Complete, 0x08).
   */
  leaveAir(): void {
    this.onAir = false;
    this.syncRadio();
  }

  joinAir(): void {
    this.onAir = true;
    this.syncRadio();
  }

  /** A copy of the current link-layer state. */
  linkLayer(): LinkLayerState {
    return {
      ...this.state,
      advertisingData: Buffer.from(this.state.advertisingData),
      scanResponse: Buffer.from(this.state.scanResponse),
      leEventMask: Buffer.from(this.state.leEventMask),
    };
  }

  /** The connections this controller holds now, either role. */
  connections(): ConnectionInfo[] {
    return this.links.list();
  }

  /** Every command received (oldest first, at most `logLimit`), with its timestamp and status. */
  log(): readonly ControllerLogEntry[] {
    return this.entries;
  }

  /** Entries for the four advertising commands: parameters, data, scan response, enable. */
  advertisingLog(): ControllerLogEntry[] {
    const wanted = new Set(['LeSetAdvertisingParameters', 'LeSetAdvertisingData', 'LeSetScanResponseData', 'LeSetAdvertiseEnable']);
    return this.entries.filter((entry) => wanted.has(entry.command));
  }

  clearLog(): void {
    this.entries.length = 0;
  }

  /**
   * Injects (or with null clears) a fault for every later command with this opcode. An error
   * status comes without result bytes: inject it into the LE advertising/scanning commands,
   * whose results hosts do not read — bleno reads Read Local Version's result regardless and
   * would crash, as it would on such a real controller.
   */
  setFault(opcode: number, fault: CommandFault | null): void {
    if (fault === null) this.faults.delete(opcode);
    else this.faults.set(opcode, fault);
  }

  /** Called by a host endpoint with one whole HCI packet: a command or ACL data. */
  receivePacket(packet: Buffer): void {
    if (packet[0] === HCI_COMMAND_PKT) this.receiveCommand(packet);
    else if (packet[0] === HCI_ACLDATA_PKT && this.up) this.links.receiveAcl(packet);
  }

  /** One whole HCI command packet. */
  receiveCommand(packet: Buffer): void {
    const at = wallClockMs();
    if (!this.up) return;
    const command = parseHciCommand(packet);
    if (!command) return;
    const fault = this.faults.get(command.opcode);
    if (fault === 'silent') {
      this.record(at, command, -1);
      return;
    }
    if (fault) {
      this.record(at, command, fault.status);
      this.queue(commandComplete(command.opcode, fault.status));
      return;
    }
    const answer = this.links.command(command) ?? answerCommand(command, this.state, this.address);
    this.record(at, command, answer.status);
    if (answer.reset) this.resetState();
    this.syncRadio();
    this.queue(answer.event);
    answer.after?.();
  }

  private record(at: number, command: HciCommand, status: number): void {
    const entry: ControllerLogEntry = { at, opcode: command.opcode, command: opcodeName(command.opcode), parameters: command.parameters, status };
    this.entries.push(entry);
    const limit = this.options.logLimit ?? 10_000;
    if (this.entries.length > limit) this.entries.splice(0, this.entries.length - limit);
    this.emit('command', entry);
  }

  /**
   * Starts or stops the air timer and the air listener to match the link-layer state: the air is
   * heard while scanning, advertising (a CONNECT_IND may come), initiating or connected.
   */
  private syncRadio(): void {
    const advertising = this.up && this.onAir && this.state.advertisingEnabled;
    if (advertising && !this.airTimer) this.startTransmitting();
    if (!advertising && this.airTimer) this.stopTransmitting();
    const scanning = this.up && this.state.scanEnabled;
    if (scanning && !this.scanning) this.seen.clear(); // duplicate filtering starts afresh (§7.8.11)
    this.scanning = scanning;
    const listening = this.up && this.onAir && (this.state.scanEnabled || this.state.advertisingEnabled || this.links.active);
    if (listening && !this.unlisten && this.options.air) {
      this.unlisten = this.options.air.listen((packet) => this.hear(packet));
    }
    if (!listening && this.unlisten) {
      this.unlisten();
      this.unlisten = null;
    }
  }

  private resetState(): void {
    this.state = initialState();
    this.links.reset();
    this.syncRadio();
  }

  private startTransmitting(): void {
    const intervalMs = Math.max(20, this.options.airIntervalMs ?? this.state.advertisingIntervalMs);
    this.transmit();
    this.airTimer = setInterval(() => this.transmit(), intervalMs);
    // The virtual radio must never be what keeps a process alive.
    this.airTimer.unref();
  }

  private stopTransmitting(): void {
    if (this.airTimer) clearInterval(this.airTimer);
    this.airTimer = null;
  }

  private transmit(): void {
    this.options.air?.transmit({
      from: this.address,
      advertisingData: Buffer.from(this.state.advertisingData),
      scanResponse: Buffer.from(this.state.scanResponse),
      at: wallClockMs(),
      ...(!CONNECTABLE_ADVERTISING.has(this.state.advertisingType) && { connectable: false }),
    });
  }

  private transmitPdu(pdu: LinkPdu): void {
    if (this.up && this.onAir) this.options.air?.transmit(pdu);
  }

  /** Routes what is heard: advertising to the scanner and the initiator, link PDUs addressed to us to the links. */
  private hear(packet: AirPacket): void {
    if (packet.from === this.address || !this.up || !this.onAir) return;
    if (!isAdvertising(packet)) {
      if (packet.to === this.address) this.links.hearLink(packet);
      return;
    }
    this.links.hearAdvertising(packet);
    if (!this.state.scanEnabled) return;
    const rssi = rssiFor(packet.from, this.options);
    this.report(ADV_IND, packet.from, packet.advertisingData, rssi);
    if (this.state.activeScan) this.report(SCAN_RSP, packet.from, packet.scanResponse, rssi);
  }

  private report(eventType: number, address: string, data: Buffer, rssi: number): void {
    if (this.state.filterDuplicates) {
      // Duplicate filtering (§7.8.11) is per address; like most controllers we report again
      // when the data changes, which a rotating beacon relies on.
      const key = `${address}|${eventType}|${data.toString('hex')}`;
      if (this.seen.has(key)) return;
      if (this.seen.size > 4096) this.seen.clear();
      this.seen.add(key);
    }
    this.queue(leAdvertisingReport({ eventType, address, data, rssi }));
  }

  /** Events reach hosts asynchronously and in order, as from a real socket. */
  private queue(packet: Buffer): void {
    this.outbox.push(packet);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const packets = this.outbox;
      this.outbox = [];
      for (const out of packets) for (const endpoint of this.endpoints) endpoint.deliver(out);
    });
  }
}
