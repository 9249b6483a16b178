/**
 * The production radio on a machine without a Bluetooth adapter (this one: the native HCI
 * socket throws EAFNOSUPPORT, docs/radio.md). The daemon must keep running and say why the radio
 * is unhealthy instead of crashing. No virtual controller is installed in this file's process.
 */
import { describe, expect, it } from 'vitest';
import { createAdvertiser } from '../../gateway/ble/radio.js';
import { isVirtualHciInstalled } from '../../gateway/ble/virtual/install.js';
import { eventually } from '../helpers/eventually.js';
import { payloadForWindow, testLogger } from './classroom.js';

describe('bleno advertiser without an adapter', () => {
  it('records the failure in health, keeps the wanted payload and does not throw', async () => {
    const advertiser = createAdvertiser({ kind: 'bleno', logger: testLogger(), retryMinMs: 50, retryMaxMs: 100 });
    await advertiser.start();
    advertiser.setPayload(payloadForWindow(5890752));
    const error = await eventually(() => advertiser.health().lastError ?? undefined, 2_000, 'the load failure');
    expect(error).toMatch(/^bleno unavailable: /);
    expect(advertiser.health()).toMatchObject({ state: 'unknown', inSync: false, lastAppliedAt: null });
    // It keeps retrying (the adapter may be plugged in later) without crashing the process.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(advertiser.health().lastError).toMatch(/^bleno unavailable: /);
    await advertiser.stop();
    expect(advertiser.health().state).toBe('stopped');
    expect(isVirtualHciInstalled()).toBe(false);
  });
});
