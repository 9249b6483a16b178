/**
 * The load-time check of gateway/ble/bleno-links.ts and what the BlenoAdvertiser does when it
 * fails, with the real bleno on a virtual controller: here bleno is initialised before the
 * advertiser loads it (as code loading bleno on its own first would do), so its bindings have
 * already bound the single-connection handlers and the links cannot be installed. The check names
 * what is missing, the advertiser logs it at error level and keeps it in health().lastError, and
 * still advertises the payload (the room's beacon); it serves no GATT.
 */
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { BlenoInternalsError, installBlenoLinks, missingInternals } from '../../gateway/ble/bleno-links.js';
import type { BlenoAttachment } from '../../gateway/ble/bleno-gatt.js';
import { BlenoAdvertiser } from '../../gateway/ble/bleno-advertiser.js';
import { ensureVirtualController } from '../../gateway/ble/radio.js';
import { InProcessAir } from '../../gateway/ble/virtual/air.js';
import { eventually } from '../helpers/eventually.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { payloadForWindow, windowsOfSession } from './classroom.js';

const require = createRequire(import.meta.url);
const air = new InProcessAir();
const logs = memoryLogger();
const controller = ensureVirtualController(0, logs.log, { air, address: 'c0:ff:ee:00:0a:00', airIntervalMs: 30 });
process.env.BLENO_HCI_DEVICE_ID = '0';
const bleno = require('@abandonware/bleno') as { initialized: boolean; state: string; on(event: string, listener: (...args: unknown[]) => void): void };

afterAll(async () => {
  await air.close();
});

describe('bleno links: the check of bleno internals', () => {
  it('finds everything it needs in the pinned bleno before it initialises', () => {
    expect(bleno.initialized).toBe(false);
    const acl = require('@abandonware/bleno/lib/hci-socket/acl-stream') as unknown;
    const gatt = require('@abandonware/bleno/lib/hci-socket/gatt') as unknown;
    expect(missingInternals(bleno, acl, gatt)).toEqual([]);
  });

  it('names what is missing in a bleno that is not the hci-socket 0.6.2 one', () => {
    expect(missingInternals({ initialized: false }, undefined, undefined)).toEqual(['bleno._bindings (the hci-socket bindings)']);
    const missing = missingInternals({ initialized: false, _bindings: { onLeConnComplete: () => undefined } }, function AclStream() {}, undefined);
    expect(missing).toContain('bindings.onDisconnComplete()');
    expect(missing).toContain('bindings._hci._socket (an EventEmitter)');
    expect(missing).toContain('lib/hci-socket/acl-stream.js AclStream');
    expect(missing).toContain('lib/hci-socket/gatt.js Gatt');
    expect(missing).not.toContain('bindings.onLeConnComplete()');
  });

  it('refuses a bleno initialised already; the advertiser logs it, reports it in health and still advertises, serving no GATT', async () => {
    bleno.on('stateChange', () => undefined); // initialises bleno with its stock handlers
    expect(() => installBlenoLinks(bleno)).toThrow(BlenoInternalsError);
    expect(() => installBlenoLinks(bleno)).toThrow(/an uninitialised bleno/);

    const advertiser = new BlenoAdvertiser({ logger: logs.log, hciDeviceId: 0 });
    const attached: unknown[] = [];
    const gatt: BlenoAttachment = { attach: (...args) => attached.push(args), detach: () => undefined };
    advertiser.serveGatt(gatt);
    await advertiser.start();
    const payload = payloadForWindow(windowsOfSession(300, 1)[0]!);
    advertiser.setPayload(payload);
    await eventually(() => advertiser.health().inSync, 5_000, 'the payload applied');
    expect(controller.linkLayer().advertisingData).toEqual(payload.advertisingData);
    expect(advertiser.health().lastError).toMatch(/^bleno cannot serve several connections: bleno 0\.6\.2 lacks .*an uninitialised bleno/);
    expect(logs.lines.filter((l) => l.msg === 'bleno cannot serve several connections; the check-in service is off' && l.level === 50)).toHaveLength(1);
    expect(attached).toEqual([]);
    await advertiser.stop();
    expect(advertiser.health().lastError).toBeNull();
  });
});
