/**
 * Several centrals at once on `@abandonware/bleno` 0.6.2's HCI bindings (docs/gateway.md §The
 * check-in service). Stock bleno keeps ONE connection: `lib/hci-socket/bindings.js` holds one
 * handle, one ACL stream and one GATT server, `hci.js` ignores the Disconnection Complete of any
 * handle but the newest (`_mainHandle`), and advertising is re-enabled only after a disconnection
 * (a controller ends connectable advertising when it makes a connection). So phones would take
 * turns and the room's beacon would be off the air while one is connected.
 *
 * installBlenoLinks() replaces the connection handlers of bleno's bindings object before bleno
 * initialises (bindings.js binds them in init()), so that per connection handle there is:
 * - its own AclStream (lib/hci-socket/acl-stream.js) and its own Gatt (lib/hci-socket/gatt.js)
 *   with the service objects a LinkServer gives for that link (so every characteristic callback
 *   knows its connection), or bleno's setServices() list when no server is set;
 * - ACL data, encryption changes, LTK negative replies and RSSI routed by handle;
 * - its own Disconnection Complete (the Hci's `_mainHandle` is pointed at a handle of ours just
 *   before hci.js reads the event);
 * - and after each accepted connection advertising is enabled again while fewer than `maxLinks`
 *   are up, so the token beacon and the connectable advertisement stay on air.
 * bleno's own events keep their meaning ('accept' and 'disconnect' with the address, 'rssiUpdate',
 * 'mtuChange'); bleno.disconnect() and updateRssi() act on every link.
 *
 * It relies on bleno internals, so it checks them first and throws a BlenoInternalsError naming
 * what is missing (package.json pins bleno to exactly 0.6.2). bleno is required here only inside
 * installBlenoLinks(), which the BlenoAdvertiser calls right after it loads bleno lazily.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

/** The bleno version these internals were read from. */
export const BLENO_VERSION = '0.6.2';
/** Links kept while advertising is re-enabled; at this many the gateway waits for one to end. */
export const DEFAULT_MAX_LINKS = 8;

const HCI_EVENT_PKT = 0x04;
const EVT_DISCONN_COMPLETE = 0x05;
const ROLE_PERIPHERAL = 1;

/** One central connected to this peripheral. */
export interface BlenoLink {
  readonly handle: number;
  /** The central's address as bleno reports it (lowercase, colon-separated). */
  readonly address: string;
  readonly addressType: string;
}

/** Serves GATT per link: the services a new link sees, and what happens to it afterwards. */
export interface LinkServer {
  /** Called as the link comes up, before bleno's 'accept'; the returned services are this link's alone. */
  open(link: BlenoLink): unknown[];
  /** The link ended (HCI reason code: 0x08 supervision timeout, 0x13 remote user, 0x16 local host…). */
  close(link: BlenoLink, reason: number): void;
  /** The controller's RSSI of this link (Read RSSI). */
  rssi(link: BlenoLink, dbm: number): void;
}

/** bleno's internals this file relies on are missing or already in use: several links are not possible. */
export class BlenoInternalsError extends Error {
  override readonly name = 'BlenoInternalsError';
}

interface AclStream extends EventEmitter {
  push(cid: number | null, data: Buffer | null): void;
  pushEncrypt(encrypt: number): void;
  pushLtkNegReply(): void;
}
interface Gatt extends EventEmitter {
  setServices(services: unknown[]): void;
  setAclStream(stream: AclStream): void;
}
interface Hci extends EventEmitter {
  _socket: EventEmitter;
  _mainHandle: number | null;
  address: string;
  addressType: string;
  disconnect(handle: number, reason?: number): void;
  readRssi(handle: number): void;
}
interface Gap extends EventEmitter {
  _advertiseState: string | null;
  restartAdvertising(): void;
}
interface Bindings extends EventEmitter {
  _hci: Hci;
  _gap: Gap;
  _advertising: boolean;
  _address: string | null;
  _handle: number | null;
  _aclStream: AclStream | null;
  [method: string]: unknown;
}
type AclStreamClass = new (hci: Hci, handle: number, localType: string, local: string, remoteType: string, remote: string) => AclStream;
type GattClass = new () => Gatt;

/** The bindings methods replaced here: bindings.js binds these in init(). */
const REPLACED = ['onLeConnComplete', 'onDisconnComplete', 'onEncryptChange', 'onLeLtkNegReply', 'onRssiRead', 'onAclDataPkt', 'disconnect', 'updateRssi', 'setServices', 'init'];
const INSTALLED = Symbol.for('attendance.ble.blenoLinks');

const isFunction = (value: unknown): boolean => typeof value === 'function';

/** What of bleno's internals is missing, in words; empty when everything this file needs is there. */
export function missingInternals(bleno: { initialized?: unknown; _bindings?: unknown }, acl: unknown, gatt: unknown): string[] {
  const missing: string[] = [];
  const bindings = bleno._bindings as Partial<Bindings> | undefined;
  if (!bindings || typeof bindings !== 'object') return ['bleno._bindings (the hci-socket bindings)'];
  for (const method of REPLACED) if (!isFunction(bindings[method])) missing.push(`bindings.${method}()`);
  if (typeof bindings._advertising !== 'boolean') missing.push('bindings._advertising');
  const hci = bindings._hci as Partial<Hci> | undefined;
  if (!hci || !(hci._socket instanceof EventEmitter) || !isFunction(hci._socket.prependListener)) missing.push('bindings._hci._socket (an EventEmitter)');
  if (hci && !('_mainHandle' in hci)) missing.push('bindings._hci._mainHandle');
  for (const method of ['disconnect', 'readRssi', 'queueAclDataPkt'] as const) if (!isFunction((hci as Record<string, unknown> | undefined)?.[method])) missing.push(`hci.${method}()`);
  const gap = bindings._gap as Partial<Gap> | undefined;
  if (!gap || !isFunction(gap.restartAdvertising) || !('_advertiseState' in gap) || !isFunction(gap.on)) missing.push('bindings._gap (restartAdvertising, _advertiseState)');
  const aclProto = (acl as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  if (!aclProto || !['push', 'pushEncrypt', 'pushLtkNegReply'].every((m) => isFunction(aclProto[m]))) missing.push('lib/hci-socket/acl-stream.js AclStream');
  const gattProto = (gatt as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  if (!gattProto || !['setServices', 'setAclStream', 'onAclStreamEnd'].every((m) => isFunction(gattProto[m]))) missing.push('lib/hci-socket/gatt.js Gatt');
  if (bleno.initialized !== false) missing.push('an uninitialised bleno (it was initialised before the links were installed)');
  return missing;
}

interface LinkState {
  link: BlenoLink;
  acl: AclStream;
  gatt: Gatt;
}

export interface BlenoLinksOptions {
  maxLinks?: number;
  /** Told of a server that threw (the error is contained: bleno's socket handler never sees it). */
  onError?: (err: unknown, where: string) => void;
}

/** The links bleno holds; created by installBlenoLinks(). */
export class BlenoLinks {
  private readonly links = new Map<number, LinkState>();
  private server: LinkServer | null = null;
  /** What bleno.setServices() was given: the services of a link when no server is set. */
  private sharedServices: unknown[] = [];
  /** A connection came while a start was in flight: re-enable once it is confirmed. */
  private restartWhenStarted = false;
  readonly maxLinks: number;

  constructor(
    private readonly bindings: Bindings,
    private readonly classes: { AclStream: AclStreamClass; Gatt: GattClass },
    private readonly options: BlenoLinksOptions,
  ) {
    this.maxLinks = options.maxLinks ?? DEFAULT_MAX_LINKS;
  }

  /** Serves `server` to the links that come up from now on; null: bleno's setServices() list. */
  serve(server: LinkServer | null): void {
    this.server = server;
  }

  count(): number {
    return this.links.size;
  }

  list(): BlenoLink[] {
    return [...this.links.values()].map((s) => s.link);
  }

  disconnect(handle: number): void {
    if (this.links.has(handle)) this.bindings._hci.disconnect(handle);
  }

  readRssi(handle: number): void {
    if (this.links.has(handle)) this.bindings._hci.readRssi(handle);
  }

  /** Puts the handlers in place on the bindings object (before its init() binds them). */
  install(): void {
    const b = this.bindings;
    const hci = b._hci;
    const originalSetServices = b.setServices as (services: unknown[]) => void;
    const originalInit = b.init as () => void;
    const handlers: Record<string, (...args: never[]) => void> = {
      onLeConnComplete: (status: number, handle: number, role: number, addressType: string, address: string) => this.onConnection(status, handle, role, addressType, address),
      onDisconnComplete: (handle: number, reason: number) => this.onDisconnection(handle, reason),
      onEncryptChange: (handle: number, encrypt: number) => this.links.get(handle)?.acl.pushEncrypt(encrypt),
      onLeLtkNegReply: (handle: number) => this.links.get(handle)?.acl.pushLtkNegReply(),
      onRssiRead: (handle: number, rssi: number) => this.onRssi(handle, rssi),
      onAclDataPkt: (handle: number, cid: number, data: Buffer) => this.links.get(handle)?.acl.push(cid, data),
      disconnect: () => {
        for (const handle of this.links.keys()) hci.disconnect(handle);
      },
      updateRssi: () => {
        for (const handle of this.links.keys()) hci.readRssi(handle);
      },
      setServices: (services: unknown[]) => {
        this.sharedServices = services;
        originalSetServices.call(b, services);
      },
      init: () => {
        // hci.js handles a Disconnection Complete only for its newest handle; this listener runs
        // first and points it at the handle of ours the event is for.
        hci._socket.prependListener('data', (data: Buffer) => {
          if (data.length < 7 || data[0] !== HCI_EVENT_PKT || data[1] !== EVT_DISCONN_COMPLETE || data[3] !== 0x00) return;
          const handle = data.readUInt16LE(4);
          if (this.links.has(handle)) hci._mainHandle = handle;
        });
        b._gap.on('advertisingStart', (error: Error | null) => {
          if (!this.restartWhenStarted) return;
          this.restartWhenStarted = false;
          if (!error) this.keepAdvertising();
        });
        originalInit.call(b);
      },
    };
    for (const [name, handler] of Object.entries(handlers)) b[name] = handler;
  }

  private onConnection(status: number, handle: number, role: number, addressType: string, address: string): void {
    if (role !== ROLE_PERIPHERAL || status !== 0x00) return;
    const b = this.bindings;
    const hci = b._hci;
    this.links.get(handle)?.acl.push(null, null);
    const link: BlenoLink = { handle, address, addressType };
    const acl = new this.classes.AclStream(hci, handle, hci.addressType, hci.address, addressType, address);
    const gatt = new this.classes.Gatt();
    gatt.on('mtuChange', (mtu: number) => b.emit('mtuChange', mtu));
    // In the table before the server opens it, so that it can already read the link's RSSI.
    this.links.set(handle, { link, acl, gatt });
    let services = this.sharedServices;
    if (this.server) {
      try {
        services = this.server.open(link);
      } catch (err) {
        this.options.onError?.(err, 'open');
        services = [];
      }
    }
    gatt.setServices(services);
    gatt.setAclStream(acl);
    // bleno's single-connection fields, for anything that reads them: the newest link.
    b._address = address;
    b._handle = handle;
    b._aclStream = acl;
    b.emit('accept', address);
    this.keepAdvertising();
  }

  private onDisconnection(handle: number, reason: number): void {
    const state = this.links.get(handle);
    if (!state) return;
    state.acl.push(null, null);
    this.links.delete(handle);
    const b = this.bindings;
    if (b._handle === handle) {
      b._address = null;
      b._handle = null;
      b._aclStream = null;
    }
    if (this.server) {
      try {
        this.server.close(state.link, reason);
      } catch (err) {
        this.options.onError?.(err, 'close');
      }
    }
    b.emit('disconnect', state.link.address);
    this.keepAdvertising();
  }

  private onRssi(handle: number, rssi: number): void {
    const state = this.links.get(handle);
    if (!state) return;
    this.bindings.emit('rssiUpdate', rssi);
    try {
      this.server?.rssi(state.link, rssi);
    } catch (err) {
      this.options.onError?.(err, 'rssi');
    }
  }

  /**
   * Enables advertising again while the host wants it on and a link is free. A start in flight
   * is waited for (its own enable may have come before the connection); a stop in flight wins.
   */
  private keepAdvertising(): void {
    const b = this.bindings;
    if (!b._advertising || this.links.size >= this.maxLinks) return;
    const state = b._gap._advertiseState;
    if (state === 'starting') this.restartWhenStarted = true;
    else if (state === 'started' || state === 'restarting') b._gap.restartAdvertising();
  }
}

/**
 * Gives the loaded bleno several links; idempotent per bleno. Throws a BlenoInternalsError when
 * bleno is not the 0.6.2 hci-socket one this was written for (or was initialised already).
 */
export function installBlenoLinks(bleno: object, options: BlenoLinksOptions = {}): BlenoLinks {
  const target = bleno as { initialized?: unknown; _bindings?: Bindings & { [INSTALLED]?: BlenoLinks } };
  const existing = target._bindings?.[INSTALLED];
  if (existing) return existing;
  const require = createRequire(import.meta.url);
  const load = (path: string): unknown => {
    try {
      return require(path);
    } catch {
      return undefined;
    }
  };
  const AclStream = load('@abandonware/bleno/lib/hci-socket/acl-stream');
  const Gatt = load('@abandonware/bleno/lib/hci-socket/gatt');
  const missing = missingInternals(target, AclStream, Gatt);
  if (missing.length > 0) {
    const version = (load('@abandonware/bleno/package.json') as { version?: string } | undefined)?.version ?? 'unknown';
    throw new BlenoInternalsError(`bleno ${version} lacks what several connections need (written for ${BLENO_VERSION}): ${missing.join('; ')}`);
  }
  const links = new BlenoLinks(target._bindings!, { AclStream: AclStream as AclStreamClass, Gatt: Gatt as GattClass }, options);
  links.install();
  target._bindings![INSTALLED] = links;
  return links;
}
