/**
 * bleno loads but cannot bind its adapter (hci9 does not exist): the advertiser reports why and
 * that a restart is needed, instead of re-initialising the half-initialised bleno singleton.
 */
import { describe, expect, it } from 'vitest';
import { BlenoAdvertiser } from '../../gateway/ble/bleno-advertiser.js';
import { installVirtualHci } from '../../gateway/ble/virtual/install.js';
import { payloadForWindow, testLogger } from './classroom.js';

describe('bleno advertiser with a missing adapter', () => {
  it('records that the adapter cannot be opened, for every advertiser of the process', async () => {
    installVirtualHci(); // no virtual controller registered: binding hci9 fails with ENODEV
    const first = new BlenoAdvertiser({ logger: testLogger(), hciDeviceId: 9 });
    await first.start();
    first.setPayload(payloadForWindow(5890752));
    expect(first.health()).toMatchObject({ state: 'unknown', inSync: false });
    expect(first.health().lastError).toMatch(/^bleno could not open the adapter: no virtual HCI controller hci9 registered \(restart/);
    await first.stop();

    const second = new BlenoAdvertiser({ logger: testLogger(), hciDeviceId: 9 });
    await second.start();
    expect(second.health().lastError).toMatch(/could not open the adapter/);
    await second.stop();
  });
});
