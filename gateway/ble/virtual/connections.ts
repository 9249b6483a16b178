/**
 * The connection part of the virtual controller's link layer: initiating (LE Create Connection),
 * accepting a CONNECT_IND while advertising, the connection table with its handles and roles,
 * ACL data both ways with the controller's buffer accounting (Number Of Completed Packets),
 * connection update, disconnect and the supervision timeout. Core v5.3 Vol 4 Part E for the HCI
 * side, Vol 6 Part B for the link layer; PDUs on air are those of air-link.ts.
 *
 * What is not modelled: connection events and their timing, channel maps and hopping, encryption.
 * A link is kept alive by an empty PDU every `keepaliveMs` (a sixth of the supervision timeout, at
 * most 100 ms); a link that hears nothing from its peer for the supervision timeout is lost.
 */
import { randomBytes } from 'node:crypto';
import type { ConnectIndPdu, DataPdu, LinkPdu, TerminateIndPdu, UpdateIndPdu } from './air-link.js';
import type { AdvertisingPacket } from './air.js';
import type { CommandAnswer } from './hci-commands.js';
import {
  DISCONNECT_REASONS,
  MAX_CONNECTION_HANDLE,
  PB_CONTINUING,
  PB_FIRST_FLUSHABLE,
  ROLE_CENTRAL,
  ROLE_PERIPHERAL,
  STATUS_CONNECTION_ALREADY_EXISTS,
  STATUS_CONNECTION_FAILED_TO_ESTABLISH,
  STATUS_CONNECTION_LIMIT_EXCEEDED,
  STATUS_CONNECTION_TIMEOUT,
  STATUS_LOCAL_HOST_TERMINATED,
  aclPacket,
  dataBufferOverflow,
  disconnectionComplete,
  leConnectionComplete,
  leConnectionUpdateComplete,
  leEnhancedConnectionComplete,
  leReadRemoteFeaturesComplete,
  numberOfCompletedPackets,
  parseAclPacket,
  parseDisconnect,
  parseLeConnectionUpdate,
  parseLeCreateConnection,
  readRemoteVersionComplete,
  type ConnectionCompleteFields,
  type ConnectionParameters,
  type CreateConnection,
} from './hci-connection-packets.js';
import {
  Opcode,
  STATUS_COMMAND_DISALLOWED,
  STATUS_INVALID_PARAMETERS,
  STATUS_SUCCESS,
  STATUS_UNKNOWN_COMMAND,
  STATUS_UNKNOWN_CONNECTION,
  STATUS_UNSUPPORTED_FEATURE,
  commandComplete,
  commandStatus,
  type HciCommand,
} from './hci-packets.js';

/** LE_ACL_Data_Packet_Length and Total_Num_LE_ACL_Data_Packets (LE Read Buffer Size, §7.8.2). */
export const LE_ACL_PACKET_LENGTH = 27;
export const LE_ACL_PACKETS = 8;
/** Connections one controller holds at once (both roles together). */
export const DEFAULT_MAX_CONNECTIONS = 8;
/** LE features of every virtual controller (§7.8.3, Vol 6 Part B §4.6): Connection Parameters Request only; no encryption. */
export const LE_FEATURES = Buffer.from([0x02, 0, 0, 0, 0, 0, 0, 0]);
/** What Read Remote Version Information reports for a peer (every peer is a virtual controller). */
export const REMOTE_VERSION = { version: 0x09, companyId: 0xffff, subversion: 0x0000 } as const;

/** LE event mask bits (§7.8.1) of the subevents raised here. */
const LE_MASK_CONNECTION_COMPLETE = 0;
const LE_MASK_CONNECTION_UPDATE_COMPLETE = 2;
const LE_MASK_READ_REMOTE_FEATURES_COMPLETE = 3;
const LE_MASK_ENHANCED_CONNECTION_COMPLETE = 9;

const FIRST_HANDLE = 0x0040;
const TICK_MS = 10;
/** Least time a new link has to hear its peer before it fails with 0x3E (air latency across processes). */
const ESTABLISH_FLOOR_MS = 250;
const PERIPHERAL_CLOCK_ACCURACY = 0x05; // 31–50 ppm, what a CONNECT_IND from a crystal-driven central says

/** What the connection layer needs from its controller. */
export interface ConnectionsContext {
  readonly address: string;
  /** Hands one HCI event or ACL packet to the host, in order. */
  toHost(packet: Buffer): void;
  /** Puts a PDU on air (a no-op while the controller is off the air). */
  transmit(pdu: LinkPdu): void;
  rssiOf(from: string): number;
  leEventEnabled(bit: number): boolean;
  /** True while connectable advertising is enabled. */
  advertisingConnectable(): boolean;
  /** A CONNECT_IND was accepted: legacy advertising stops (§7.8.9). */
  advertisingEndedByConnection(): void;
  onChange(): void;
  emit(event: 'connection' | 'disconnection' | 'aclDropped', payload: unknown): void;
}

export interface ConnectionInfo extends ConnectionParameters {
  handle: number;
  role: 'central' | 'peripheral';
  peer: string;
  established: boolean;
  /** ACL packets of this link the host handed over and the peer has not yet acknowledged. */
  inFlight: number;
  rssi: number;
}

interface Fragment {
  seq: number;
  start: boolean;
  payload: Buffer;
  sentAt: number;
}

interface Link {
  handle: number;
  role: number;
  peer: string;
  accessAddress: string;
  params: ConnectionParameters;
  established: boolean;
  createdAt: number;
  lastHeard: number;
  lastSent: number;
  nextSeq: number;
  unacked: Fragment[];
  received: number;
  ackDue: boolean;
  rssi: number;
}

const complete = (opcode: number, status: number, result?: Buffer): CommandAnswer => ({ status, event: commandComplete(opcode, status, result) });
const statusOnly = (opcode: number, status: number, after?: () => void): CommandAnswer => ({ status, event: commandStatus(opcode, status), ...(after && { after }) });

function handleBytes(handle: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(handle & 0xffff);
  return bytes;
}

function keepaliveMs(params: ConnectionParameters): number {
  return Math.max(TICK_MS, Math.min(100, (params.timeoutUnits * 10) / 6));
}

export class Connections {
  private readonly links = new Map<number, Link>();
  private initiating: CreateConnection | null = null;
  private buffersInUse = 0;
  private nextHandle = FIRST_HANDLE;
  private timer: NodeJS.Timeout | null = null;
  private ackScheduled = false;

  constructor(
    private readonly ctx: ConnectionsContext,
    private readonly maxConnections = DEFAULT_MAX_CONNECTIONS,
  ) {}

  /** True while the air must be heard: initiating or connected. */
  get active(): boolean {
    return this.initiating !== null || this.links.size > 0;
  }

  list(): ConnectionInfo[] {
    return [...this.links.values()].map((link) => ({
      handle: link.handle,
      role: link.role === ROLE_CENTRAL ? 'central' : 'peripheral',
      peer: link.peer,
      established: link.established,
      inFlight: link.unacked.length,
      rssi: link.rssi,
      ...link.params,
    }));
  }

  /** HCI_Reset or power loss: every link and attempt is gone, without events (the peers time out). */
  reset(): void {
    this.links.clear();
    this.initiating = null;
    this.buffersInUse = 0;
    this.syncTimer();
  }

  /** Answers a connection command, or returns null for any other opcode. */
  command({ opcode, parameters }: HciCommand): CommandAnswer | null {
    switch (opcode) {
      case Opcode.LeCreateConnection:
        return this.createConnection(parameters);
      case Opcode.LeCreateConnectionCancel:
        return this.cancelCreateConnection();
      case Opcode.LeExtendedCreateConnection:
        // Not in our Supported_Commands (octet 37 stays clear), so noble never sends it.
        return statusOnly(opcode, STATUS_UNKNOWN_COMMAND);
      case Opcode.Disconnect:
        return this.disconnectCommand(parameters);
      case Opcode.LeConnectionUpdate:
        return this.connectionUpdate(parameters);
      case Opcode.ReadRemoteVersion:
        return this.withLink(opcode, parameters, (link) => () => this.ctx.toHost(readRemoteVersionComplete(STATUS_SUCCESS, link.handle, REMOTE_VERSION)));
      case Opcode.LeReadRemoteFeatures:
        return this.withLink(opcode, parameters, (link) => () => {
          if (this.ctx.leEventEnabled(LE_MASK_READ_REMOTE_FEATURES_COMPLETE)) this.ctx.toHost(leReadRemoteFeaturesComplete(STATUS_SUCCESS, link.handle, LE_FEATURES));
        });
      case Opcode.LeStartEncryption: {
        // §7.8.24 on a controller without LE Encryption (LE_FEATURES bit 0 clear).
        if (parameters.length !== 28) return statusOnly(opcode, STATUS_INVALID_PARAMETERS);
        return statusOnly(opcode, this.links.has(parameters.readUInt16LE(0)) ? STATUS_UNSUPPORTED_FEATURE : STATUS_UNKNOWN_CONNECTION);
      }
      case Opcode.LeLtkNegativeReply: {
        // §7.8.26: the handle comes back; no LTK request is ever pending here.
        const known = parameters.length === 2 && this.links.has(parameters.readUInt16LE(0));
        return complete(opcode, known ? STATUS_COMMAND_DISALLOWED : STATUS_UNKNOWN_CONNECTION, handleBytes(parameters.length >= 2 ? parameters.readUInt16LE(0) : 0));
      }
      case Opcode.ReadRssi: {
        // §7.5.4: handle, then the RSSI (int8) of the last packet heard from the peer.
        const handle = parameters.length >= 2 ? parameters.readUInt16LE(0) : 0;
        const link = parameters.length === 2 ? this.links.get(handle) : undefined;
        const result = Buffer.concat([handleBytes(handle), Buffer.alloc(1)]);
        if (!link) return complete(opcode, parameters.length === 2 ? STATUS_UNKNOWN_CONNECTION : STATUS_INVALID_PARAMETERS, result);
        result.writeInt8(Math.max(-127, Math.min(20, link.rssi)), 2);
        return complete(opcode, STATUS_SUCCESS, result);
      }
      default:
        return null;
    }
  }

  /** Commands about one connection whose answer is Command Status and then one event. */
  private withLink(opcode: number, parameters: Buffer, then: (link: Link) => () => void): CommandAnswer {
    if (parameters.length !== 2) return statusOnly(opcode, STATUS_INVALID_PARAMETERS);
    const link = this.links.get(parameters.readUInt16LE(0));
    if (!link) return statusOnly(opcode, STATUS_UNKNOWN_CONNECTION);
    return statusOnly(opcode, STATUS_SUCCESS, then(link));
  }

  /** LE Create Connection (§7.8.12): Command Status now, LE Connection Complete once the peer is heard. */
  private createConnection(parameters: Buffer): CommandAnswer {
    const opcode = Opcode.LeCreateConnection;
    const command = parseLeCreateConnection(parameters);
    if (!command) return statusOnly(opcode, STATUS_INVALID_PARAMETERS);
    if (this.initiating) return statusOnly(opcode, STATUS_COMMAND_DISALLOWED);
    // The Filter Accept List is not modelled: initiating through it is an unsupported feature.
    if (command.filterPolicy !== 0x00) return statusOnly(opcode, STATUS_UNSUPPORTED_FEATURE);
    if ([...this.links.values()].some((link) => link.peer === command.peerAddress)) return statusOnly(opcode, STATUS_CONNECTION_ALREADY_EXISTS);
    if (this.links.size >= this.maxConnections) return statusOnly(opcode, STATUS_CONNECTION_LIMIT_EXCEEDED);
    this.initiating = command;
    this.ctx.onChange();
    return statusOnly(opcode, STATUS_SUCCESS);
  }

  /** LE Create Connection Cancel (§7.8.13): Command Complete, then LE Connection Complete with 0x02. */
  private cancelCreateConnection(): CommandAnswer {
    const opcode = Opcode.LeCreateConnectionCancel;
    const pending = this.initiating;
    if (!pending) return complete(opcode, STATUS_COMMAND_DISALLOWED);
    this.initiating = null;
    this.ctx.onChange();
    return {
      ...complete(opcode, STATUS_SUCCESS),
      after: () =>
        this.connectionComplete({
          status: STATUS_UNKNOWN_CONNECTION,
          handle: 0,
          role: ROLE_CENTRAL,
          peerAddressType: pending.peerAddressType,
          peerAddress: pending.peerAddress,
          intervalUnits: 0,
          latency: 0,
          timeoutUnits: 0,
          clockAccuracy: 0,
        }),
    };
  }

  private disconnectCommand(parameters: Buffer): CommandAnswer {
    const opcode = Opcode.Disconnect;
    const command = parseDisconnect(parameters);
    if (!command || !DISCONNECT_REASONS.has(command.reason)) return statusOnly(opcode, STATUS_INVALID_PARAMETERS);
    const link = this.links.get(command.handle);
    if (!link) return statusOnly(opcode, STATUS_UNKNOWN_CONNECTION);
    return statusOnly(opcode, STATUS_SUCCESS, () => {
      const pdu: TerminateIndPdu = { kind: 'terminate', ...this.addressing(link), reason: command.reason };
      this.ctx.transmit(pdu);
      // The host that asked learns Connection Terminated by Local Host (§7.1.6); the peer, the reason it gave.
      this.drop(link, STATUS_LOCAL_HOST_TERMINATED);
    });
  }

  private connectionUpdate(parameters: Buffer): CommandAnswer {
    const opcode = Opcode.LeConnectionUpdate;
    const update = parseLeConnectionUpdate(parameters);
    if (!update) return statusOnly(opcode, STATUS_INVALID_PARAMETERS);
    const link = this.links.get(update.handle);
    if (!link) return statusOnly(opcode, STATUS_UNKNOWN_CONNECTION);
    const params: ConnectionParameters = { intervalUnits: update.intervalUnits, latency: update.latency, timeoutUnits: update.timeoutUnits };
    return statusOnly(opcode, STATUS_SUCCESS, () => {
      const pdu: UpdateIndPdu = { kind: 'update', ...this.addressing(link), ...params };
      this.ctx.transmit(pdu);
      link.params = params;
      if (this.ctx.leEventEnabled(LE_MASK_CONNECTION_UPDATE_COMPLETE)) this.ctx.toHost(leConnectionUpdateComplete(STATUS_SUCCESS, link.handle, params));
    });
  }

  /** One ACL data packet from the host (§5.4.2), subject to the buffers LE Read Buffer Size announced. */
  receiveAcl(packet: Buffer): void {
    const acl = parseAclPacket(packet);
    if (!acl) return this.ctx.emit('aclDropped', { reason: 'malformed' });
    const link = this.links.get(acl.handle);
    if (!link) return this.ctx.emit('aclDropped', { reason: 'unknown handle', handle: acl.handle });
    if (acl.data.length > LE_ACL_PACKET_LENGTH) return this.ctx.emit('aclDropped', { reason: 'longer than the buffer', handle: acl.handle });
    if (this.buffersInUse >= LE_ACL_PACKETS) {
      // The host sent more than Total_Num_LE_ACL_Data_Packets without waiting (§4.1.1).
      this.ctx.emit('aclDropped', { reason: 'buffer overflow', handle: acl.handle });
      this.ctx.toHost(dataBufferOverflow());
      return;
    }
    this.buffersInUse++;
    const fragment: Fragment = { seq: link.nextSeq++, start: acl.boundary !== PB_CONTINUING, payload: acl.data, sentAt: 0 };
    link.unacked.push(fragment);
    this.send(link, fragment);
  }

  /** An advertising event heard on air: the initiator connects to the peer it waits for. */
  hearAdvertising(packet: AdvertisingPacket): void {
    const pending = this.initiating;
    if (!pending || packet.from !== pending.peerAddress || packet.connectable === false) return;
    this.initiating = null;
    const params: ConnectionParameters = { intervalUnits: pending.intervalMax, latency: pending.maxLatency, timeoutUnits: pending.timeoutUnits };
    const link = this.open(ROLE_CENTRAL, pending.peerAddress, randomBytes(4).toString('hex'), params);
    const connect: ConnectIndPdu = { kind: 'connect', ...this.addressing(link), ...params };
    this.ctx.transmit(connect);
    // The central's link layer enters the connection state once CONNECT_IND is sent (Vol 6 Part B §4.5).
    this.connectionComplete({ status: STATUS_SUCCESS, handle: link.handle, role: ROLE_CENTRAL, peerAddressType: pending.peerAddressType, peerAddress: link.peer, ...params, clockAccuracy: 0x00 });
  }

  /** A link-layer PDU addressed to this controller. */
  hearLink(pdu: LinkPdu): void {
    if (pdu.kind === 'connect') return this.accept(pdu);
    const link = [...this.links.values()].find((candidate) => candidate.accessAddress === pdu.link && candidate.peer === pdu.from);
    if (!link) return;
    link.lastHeard = Date.now();
    link.established = true;
    link.rssi = this.ctx.rssiOf(pdu.from);
    switch (pdu.kind) {
      case 'data':
        return this.hearData(link, pdu);
      case 'update':
        link.params = { intervalUnits: pdu.intervalUnits, latency: pdu.latency, timeoutUnits: pdu.timeoutUnits };
        if (this.ctx.leEventEnabled(LE_MASK_CONNECTION_UPDATE_COMPLETE)) this.ctx.toHost(leConnectionUpdateComplete(STATUS_SUCCESS, link.handle, link.params));
        return;
      case 'terminate':
        return this.drop(link, pdu.reason);
    }
  }

  /** CONNECT_IND while advertising connectably: become the peripheral of a new link. */
  private accept(pdu: ConnectIndPdu): void {
    if (!this.ctx.advertisingConnectable() || this.links.size >= this.maxConnections) return;
    if ([...this.links.values()].some((link) => link.accessAddress === pdu.link)) return;
    const params: ConnectionParameters = { intervalUnits: pdu.intervalUnits, latency: pdu.latency, timeoutUnits: pdu.timeoutUnits };
    const link = this.open(ROLE_PERIPHERAL, pdu.from, pdu.link, params);
    link.rssi = this.ctx.rssiOf(pdu.from);
    this.ctx.advertisingEndedByConnection();
    this.connectionComplete({ status: STATUS_SUCCESS, handle: link.handle, role: ROLE_PERIPHERAL, peerAddressType: 0x00, peerAddress: link.peer, ...params, clockAccuracy: PERIPHERAL_CLOCK_ACCURACY });
    // The peripheral answers in the first connection event; that empty PDU establishes the link.
    link.established = true;
    link.lastHeard = Date.now();
    this.sendEmpty(link);
  }

  private hearData(link: Link, pdu: DataPdu): void {
    this.acknowledged(link, pdu.ack);
    if (pdu.seq === null) return;
    link.ackDue = true;
    this.scheduleAck();
    if (pdu.seq !== link.received) return; // a repeat, or a gap the sender will fill again
    link.received++;
    const boundary = pdu.start ? PB_FIRST_FLUSHABLE : PB_CONTINUING;
    this.ctx.toHost(aclPacket({ handle: link.handle, boundary, broadcast: 0, data: pdu.payload }));
  }

  /** The peer has received `ack` fragments in order: free their buffers and tell the host. */
  private acknowledged(link: Link, ack: number): void {
    let done = 0;
    while (link.unacked.length > 0 && link.unacked[0]!.seq < ack) {
      link.unacked.shift();
      done++;
    }
    if (done === 0) return;
    this.buffersInUse -= done;
    this.ctx.toHost(numberOfCompletedPackets(link.handle, done));
  }

  private open(role: number, peer: string, accessAddress: string, params: ConnectionParameters): Link {
    const now = Date.now();
    const link: Link = {
      handle: this.allocateHandle(),
      role,
      peer,
      accessAddress,
      params,
      established: false,
      createdAt: now,
      lastHeard: now,
      lastSent: 0,
      nextSeq: 0,
      unacked: [],
      received: 0,
      ackDue: false,
      rssi: this.ctx.rssiOf(peer),
    };
    this.links.set(link.handle, link);
    this.syncTimer();
    this.ctx.onChange();
    return link;
  }

  private allocateHandle(): number {
    while (this.links.has(this.nextHandle)) this.nextHandle = this.nextHandle >= MAX_CONNECTION_HANDLE ? FIRST_HANDLE : this.nextHandle + 1;
    const handle = this.nextHandle;
    this.nextHandle = handle >= MAX_CONNECTION_HANDLE ? FIRST_HANDLE : handle + 1;
    return handle;
  }

  /** LE Connection Complete, or the enhanced one when the host unmasked it (§7.7.65.10). */
  private connectionComplete(fields: ConnectionCompleteFields): void {
    if (fields.status === STATUS_SUCCESS) this.ctx.emit('connection', { handle: fields.handle, role: fields.role === ROLE_CENTRAL ? 'central' : 'peripheral', peer: fields.peerAddress });
    if (this.ctx.leEventEnabled(LE_MASK_ENHANCED_CONNECTION_COMPLETE)) this.ctx.toHost(leEnhancedConnectionComplete(fields));
    else if (this.ctx.leEventEnabled(LE_MASK_CONNECTION_COMPLETE)) this.ctx.toHost(leConnectionComplete(fields));
  }

  /** The link is gone: its unacknowledged packets are flushed with it (§7.7.5), no NOCP for them. */
  private drop(link: Link, reason: number): void {
    if (!this.links.delete(link.handle)) return;
    this.buffersInUse -= link.unacked.length;
    this.ctx.toHost(disconnectionComplete(STATUS_SUCCESS, link.handle, reason));
    this.ctx.emit('disconnection', { handle: link.handle, peer: link.peer, reason });
    this.syncTimer();
    this.ctx.onChange();
  }

  private addressing(link: Link): { from: string; to: string; link: string; at: number } {
    return { from: this.ctx.address, to: link.peer, link: link.accessAddress, at: Date.now() };
  }

  private send(link: Link, fragment: Fragment): void {
    fragment.sentAt = Date.now();
    link.lastSent = fragment.sentAt;
    link.ackDue = false;
    const pdu: DataPdu = { kind: 'data', ...this.addressing(link), seq: fragment.seq, ack: link.received, start: fragment.start, payload: fragment.payload };
    this.ctx.transmit(pdu);
  }

  private sendEmpty(link: Link): void {
    link.lastSent = Date.now();
    link.ackDue = false;
    const pdu: DataPdu = { kind: 'data', ...this.addressing(link), seq: null, ack: link.received, start: false, payload: Buffer.alloc(0) };
    this.ctx.transmit(pdu);
  }

  /** Acknowledges what arrived in this turn with one empty PDU per link (the next connection event). */
  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      for (const link of this.links.values()) if (link.ackDue) this.sendEmpty(link);
    });
  }

  private syncTimer(): void {
    if (this.links.size > 0 && !this.timer) {
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref();
    } else if (this.links.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Supervision (Vol 6 Part B §4.5.2), retransmission of what the peer did not acknowledge, keep-alive. */
  private tick(): void {
    const now = Date.now();
    for (const link of [...this.links.values()]) {
      const timeoutMs = link.params.timeoutUnits * 10;
      if (!link.established && now - link.createdAt > Math.max(6 * link.params.intervalUnits * 1.25, ESTABLISH_FLOOR_MS)) {
        this.drop(link, STATUS_CONNECTION_FAILED_TO_ESTABLISH);
        continue;
      }
      if (link.established && now - link.lastHeard > timeoutMs) {
        this.drop(link, STATUS_CONNECTION_TIMEOUT);
        continue;
      }
      const keepalive = keepaliveMs(link.params);
      const oldest = link.unacked[0];
      if (oldest && now - oldest.sentAt > 2 * keepalive) {
        for (const fragment of link.unacked) this.send(link, fragment);
      } else if (now - link.lastSent >= keepalive) {
        this.sendEmpty(link);
      }
    }
  }
}
