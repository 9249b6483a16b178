/**
 * Picks the radio with one option. `bleno` drives a real adapter; `virtual` runs the very same
 * bleno/noble code on a VirtualController (virtual/controller.ts) joined to a virtual air, so
 * `attendance-gateway run --radio virtual`, the demo and the tests exercise the production path.
 *
 * Virtual air selection, first match wins: `air` (an Air, or an address string), the
 * ATTENDANCE_VIRTUAL_AIR environment variable (join a hub: `unix:/path`, `/path` or
 * `tcp://127.0.0.1:port`; or the hub this process hosts there, see hostVirtualAir), else the
 * process's in-process air.
 */
import type { Logger } from 'pino';
import type { Advertiser, Scanner } from './advertiser.js';
import { BlenoAdvertiser, type BlenoAdvertiserOptions } from './bleno-advertiser.js';
import { NobleScanner } from './noble-scanner.js';
import { InProcessAir, type Air, type RssiModel } from './virtual/air.js';
import { AirHub, RemoteAir } from './virtual/air-hub.js';
import { VirtualController } from './virtual/controller.js';
import { controllerRegistry } from './virtual/hci-socket.js';
import { installVirtualHci } from './virtual/install.js';

export type RadioKind = 'bleno' | 'virtual';

export const VIRTUAL_AIR_ENV = 'ATTENDANCE_VIRTUAL_AIR';
/** Default virtual adapters: bleno and noble on separate controllers, like a Pi with a dongle. */
export const DEFAULT_VIRTUAL_ADVERTISER_HCI = 0;
export const DEFAULT_VIRTUAL_SCANNER_HCI = 1;

export interface VirtualRadioOptions {
  air?: Air | string;
  /** BD_ADDR of the virtual controller; random when omitted. */
  address?: string;
  /** RSSI this controller reports for what it hears (dBm, or per transmitter address). */
  rssi?: RssiModel;
  rssiJitterDb?: number;
  /** Air cadence instead of the configured advertising interval. */
  airIntervalMs?: number;
  /** How many commands the controller's inspection log keeps (default 10,000). */
  logLimit?: number;
}

interface CommonOptions {
  kind: RadioKind;
  logger: Logger;
  hciDeviceId?: number;
  virtual?: VirtualRadioOptions;
}

export interface AdvertiserOptions extends CommonOptions, Omit<BlenoAdvertiserOptions, 'logger' | 'hciDeviceId'> {}
export type ScannerOptions = CommonOptions;

const AIR_KEY = Symbol.for('attendance.ble.defaultAir');
/** Airs by address: hubs this process hosts, and hubs it joined. */
const airs = new Map<string, Air>();

/** The in-process air shared by every virtual controller of this process that has no other. */
export function defaultAir(): InProcessAir {
  const holder = globalThis as { [AIR_KEY]?: InProcessAir };
  holder[AIR_KEY] ??= new InProcessAir();
  return holder[AIR_KEY];
}

function resolveAir(option: Air | string | undefined, logger: Logger): Air {
  if (option !== undefined && typeof option !== 'string') return option;
  const address = option ?? process.env[VIRTUAL_AIR_ENV];
  if (!address) return defaultAir();
  let air = airs.get(address);
  if (!air) {
    const remote = new RemoteAir(address, logger);
    airs.set(address, remote);
    void remote.connect();
    air = remote;
  }
  return air;
}

/**
 * Hosts the virtual air for other processes at `address` (`unix:/path`, `/path`, or
 * `tcp://127.0.0.1:0` for any free port) and makes it this process's air for that address, so
 * controllers here join the hub directly. Resolves with the hub; `hub.address` is the bound
 * address to hand to other processes as ATTENDANCE_VIRTUAL_AIR.
 */
export async function hostVirtualAir(address: string, logger: Logger): Promise<AirHub> {
  const hub = new AirHub(address, logger);
  const bound = await hub.start();
  airs.set(address, hub);
  airs.set(bound, hub);
  return hub;
}

/**
 * The virtual controller hciN of this process, created (and the virtual HCI socket installed)
 * on first use. Later calls return the same controller and ignore `options`.
 */
export function ensureVirtualController(deviceId: number, logger: Logger, options: VirtualRadioOptions = {}): VirtualController {
  installVirtualHci();
  const registry = controllerRegistry();
  let controller = registry.get(deviceId);
  if (!controller) {
    controller = new VirtualController({
      deviceId,
      air: resolveAir(options.air, logger),
      ...(options.address !== undefined && { address: options.address }),
      ...(options.rssi !== undefined && { rssi: options.rssi }),
      ...(options.rssiJitterDb !== undefined && { rssiJitterDb: options.rssiJitterDb }),
      ...(options.airIntervalMs !== undefined && { airIntervalMs: options.airIntervalMs }),
      ...(options.logLimit !== undefined && { logLimit: options.logLimit }),
    });
    registry.set(deviceId, controller);
    logger.info({ hci: deviceId, address: controller.address }, 'virtual bluetooth controller ready');
  }
  return controller;
}

export function createAdvertiser(options: AdvertiserOptions): Advertiser {
  return createVirtualAwareAdvertiser(options).advertiser;
}

/** Like createAdvertiser, also returning the virtual controller (null for real hardware). */
export function createVirtualAwareAdvertiser(options: AdvertiserOptions): { advertiser: Advertiser; controller: VirtualController | null } {
  const { kind, hciDeviceId, virtual, ...rest } = options;
  let controller: VirtualController | null = null;
  let deviceId = hciDeviceId;
  if (kind === 'virtual') {
    deviceId ??= DEFAULT_VIRTUAL_ADVERTISER_HCI;
    controller = ensureVirtualController(deviceId, options.logger, virtual);
  }
  const advertiser = new BlenoAdvertiser({ ...rest, ...(deviceId !== undefined && { hciDeviceId: deviceId }) });
  return { advertiser, controller };
}

export function createScanner(options: ScannerOptions): Scanner {
  return createVirtualAwareScanner(options).scanner;
}

export function createVirtualAwareScanner(options: ScannerOptions): { scanner: Scanner; controller: VirtualController | null } {
  let controller: VirtualController | null = null;
  let deviceId = options.hciDeviceId;
  if (options.kind === 'virtual') {
    deviceId ??= DEFAULT_VIRTUAL_SCANNER_HCI;
    controller = ensureVirtualController(deviceId, options.logger, options.virtual);
  }
  const scanner = new NobleScanner({ logger: options.logger, ...(deviceId !== undefined && { hciDeviceId: deviceId }) });
  return { scanner, controller };
}
