/**
 * A stand-in for `@abandonware/bluetooth-hci-socket` (the one class bleno and noble use to
 * reach a controller on Linux, docs/radio.md), backed by VirtualControllers of this process.
 *
 * Same API as the native class: bindRaw/bindUser/bindControl, start, stop, isDevUp, setFilter,
 * write, and the 'data'/'error' events. A raw/user socket binds to the controller with the
 * requested device id — bleno passes BLENO_HCI_DEVICE_ID, noble NOBLE_HCI_DEVICE_ID — or, like
 * the kernel, to the lowest-numbered one when none is given. The control channel (bleno's
 * mgmt.js) is answered with mgmt Command Complete events and otherwise ignored. Writes carry
 * HCI commands (0x01) and ACL data (0x02); reads deliver events (0x04) and ACL data.
 */
import { EventEmitter } from 'node:events';
import type { HciEndpoint, VirtualController } from './controller.js';
import { HCI_EVENT_PKT } from './hci-packets.js';

const REGISTRY_KEY = Symbol.for('attendance.ble.virtualControllers');

/**
 * Controllers by device id. Kept on globalThis: bleno/noble load through Node's own CJS loader
 * while tests load this module through vitest's, and both must see the same controllers.
 */
export function controllerRegistry(): Map<number, VirtualController> {
  const holder = globalThis as { [REGISTRY_KEY]?: Map<number, VirtualController> };
  holder[REGISTRY_KEY] ??= new Map();
  return holder[REGISTRY_KEY];
}

function noDevice(devId: number | undefined): Error {
  const error = new Error(`no virtual HCI controller ${devId === undefined ? '' : `hci${devId} `}registered`) as NodeJS.ErrnoException;
  error.code = 'ENODEV';
  return error;
}

/** MGMT_EV_CMD_COMPLETE (BlueZ doc/mgmt-api.txt): event 0x0001, index, length, opcode, status. */
function mgmtCommandComplete(opcode: number, index: number): Buffer {
  const packet = Buffer.alloc(9);
  packet.writeUInt16LE(0x0001, 0);
  packet.writeUInt16LE(index, 2);
  packet.writeUInt16LE(3, 4);
  packet.writeUInt16LE(opcode, 6);
  packet[8] = 0x00;
  return packet;
}

export class VirtualHciSocket extends EventEmitter implements HciEndpoint {
  private controller: VirtualController | null = null;
  private control = false;
  private started = false;
  private filter: Buffer | null = null;

  bindRaw(devId?: number): number {
    return this.bind(devId);
  }

  /** HCI_CHANNEL_USER: the host owns the controller and starts with HCI_Reset. */
  bindUser(devId?: number): number {
    return this.bind(devId);
  }

  bindControl(): void {
    this.control = true;
  }

  private bind(devId: number | undefined): number {
    const registry = controllerRegistry();
    const id = devId ?? [...registry.keys()].sort((a, b) => a - b)[0];
    const controller = id === undefined ? undefined : registry.get(id);
    if (!controller) throw noDevice(devId);
    this.controller = controller;
    controller.attach(this);
    return controller.deviceId;
  }

  isDevUp(): boolean {
    return this.controller?.isUp() ?? false;
  }

  /** struct hci_filter: type mask (u32), event mask (2 × u32), opcode (u16). */
  setFilter(filter: Buffer): void {
    this.filter = Buffer.from(filter);
  }

  start(): void {
    this.started = true;
  }

  stop(): void {
    this.started = false;
  }

  write(data: Buffer): void {
    if (this.control) {
      if (data.length >= 6) this.deliverLater(mgmtCommandComplete(data.readUInt16LE(0), data.readUInt16LE(2)));
      return;
    }
    const controller = this.controller;
    if (!controller) {
      setImmediate(() => this.emit('error', noDevice(undefined)));
      return;
    }
    if (!controller.isUp()) {
      // What the kernel answers for a write to a downed adapter; bleno and noble ignore it.
      const error = new Error('Network is down') as NodeJS.ErrnoException;
      error.code = 'ENETDOWN';
      setImmediate(() => this.emit('error', error));
      return;
    }
    controller.receivePacket(Buffer.from(data));
  }

  /** Called by the controller, already asynchronously and in order. */
  deliver(packet: Buffer): void {
    if (this.started && this.accepts(packet)) this.emit('data', packet);
  }

  private deliverLater(packet: Buffer): void {
    setImmediate(() => {
      if (this.started) this.emit('data', packet);
    });
  }

  /** Applies the socket filter the way the kernel does (hci_sock.c is_filtered_packet). */
  private accepts(packet: Buffer): boolean {
    const filter = this.filter;
    if (!filter || filter.length < 12) return true;
    const type = packet[0]!;
    if ((filter.readUInt32LE(0) & (1 << type)) === 0) return false;
    if (type !== HCI_EVENT_PKT) return true;
    const code = packet[1]! & 63;
    const word = filter.readUInt32LE(code < 32 ? 4 : 8);
    return (word & (1 << (code % 32))) !== 0;
  }
}
