/**
 * Makes `require('@abandonware/bluetooth-hci-socket')` return VirtualHciSocket, so the real
 * bleno and noble (CommonJS) run unchanged on virtual controllers (by overriding
 * Module._load; docs/radio.md). Only the virtual radio calls this; a process that never does keeps
 * the native module, so the production bleno path is untouched.
 *
 * It must run before bleno or noble is first required: both capture the socket class when
 * their lib/hci-socket/hci.js loads, and Node caches that module for the life of the process.
 */
import Module, { createRequire } from 'node:module';
import { VirtualHciSocket } from './hci-socket.js';

export const HCI_SOCKET_MODULE = '@abandonware/bluetooth-hci-socket';

const INSTALLED_KEY = Symbol.for('attendance.ble.virtualHciInstalled');

type LoadFn = (request: string, parent: unknown, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: LoadFn };
const holder = globalThis as { [INSTALLED_KEY]?: boolean };
const require = createRequire(import.meta.url);

export function isVirtualHciInstalled(): boolean {
  return holder[INSTALLED_KEY] === true;
}

/** bleno/noble modules that already captured a socket class. */
function loadedHciModules(): string[] {
  return Object.keys(require.cache).filter((path) => /[\\/]@abandonware[\\/](?:bleno|noble)[\\/]lib[\\/]hci-socket[\\/](?:hci|mgmt)\.js$/.test(path));
}

/** Idempotent. Throws if bleno/noble were already loaded with the native socket. */
export function installVirtualHci(): void {
  if (isVirtualHciInstalled()) return;
  const loaded = loadedHciModules();
  if (loaded.length > 0) {
    throw new Error(`the virtual radio must be installed before bleno/noble load; already loaded: ${loaded.join(', ')}`);
  }
  const original = loader._load;
  loader._load = function load(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    if (request === HCI_SOCKET_MODULE) return VirtualHciSocket;
    return original.call(this, request, parent, isMain);
  };
  holder[INSTALLED_KEY] = true;
}
