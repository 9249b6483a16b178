/**
 * The real bleno on the virtual controller: what reaches the controller must be exactly the
 * on-air bytes of docs/protocol.md, window after window, and must come back after the adapter
 * goes down and up. bleno is a process singleton, so the whole file shares one advertiser
 * (vitest's 'forks' pool gives this file its own process).
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEGACY_ADV_MAX } from '../../shared/advertisement.js';
import type { Advertiser, AdvertisingPayload } from '../../gateway/ble/advertiser.js';
import { createVirtualAwareAdvertiser } from '../../gateway/ble/radio.js';
import type { ControllerLogEntry, VirtualController } from '../../gateway/ble/virtual/controller.js';
import { InProcessAir } from '../../gateway/ble/virtual/air.js';
import { Opcode, STATUS_COMMAND_DISALLOWED } from '../../gateway/ble/virtual/hci-packets.js';
import { eventually } from '../helpers/eventually.js';
import { payloadForWindow, testLogger, windowsOfSession } from './classroom.js';

/**
 * The 32 parameter bytes of LE Set Advertising Data / Scan Response Data (Core v5.3 Vol 4 Part E
 * §7.8.7, §7.8.8) for `data`: one length byte, then the data zero-padded to 31 bytes — what a
 * controller must receive for `data` to go on air.
 */
function hciDataParameters(data: Buffer): Buffer {
  if (data.length > LEGACY_ADV_MAX) throw new RangeError(`legacy advertising data is at most ${LEGACY_ADV_MAX} bytes`);
  const out = Buffer.alloc(1 + LEGACY_ADV_MAX);
  out[0] = data.length;
  data.copy(out, 1);
  return out;
}

let advertiser: Advertiser;
let controller: VirtualController;

function lastEntry(command: string): ControllerLogEntry | undefined {
  return controller.log().filter((entry) => entry.command === command).at(-1);
}

async function advertise(payload: AdvertisingPayload | null): Promise<void> {
  const applied = once(advertiser, 'applied');
  advertiser.setPayload(payload);
  const [event] = (await applied) as [{ payload: AdvertisingPayload | null; at: number }];
  expect(event.payload === null ? null : event.payload.advertisingData.toString('hex')).toBe(payload === null ? null : payload.advertisingData.toString('hex'));
}

beforeAll(async () => {
  ({ advertiser, controller } = createVirtualAwareAdvertiser({
    kind: 'virtual',
    logger: testLogger(),
    virtual: { air: new InProcessAir(), address: 'c0:ff:ee:00:01:01' },
    confirmTimeoutMs: 2_000,
  }) as { advertiser: Advertiser; controller: VirtualController });
  await advertiser.start();
  await eventually(() => advertiser.health().state === 'poweredOn', 5_000, 'bleno poweredOn');
});

afterAll(async () => {
  await advertiser.stop();
});

describe('bleno advertiser on the virtual controller', () => {
  it('sends the golden advertising data byte for byte (LE Set Advertising Data, 0x2008)', async () => {
    // docs/protocol.md, golden vector row 1 (period 300 s, w = 5890752), default company id.
    await advertise(payloadForWindow(5890752));
    const data = lastEntry('LeSetAdvertisingData');
    expect(data?.opcode).toBe(0x2008);
    expect(data?.parameters.toString('hex')).toBe(
      '18' + '020106' + '14ffffff' + '01000123450059e2c006c9a0994e042a82' + '00'.repeat(7),
    );
    const scan = lastEntry('LeSetScanResponseData');
    expect(scan?.opcode).toBe(0x2009);
    // 11 07 <service UUID LE> 08 09 "ATT 101", zero-padded to 31 bytes after the length byte.
    expect(scan?.parameters.toString('hex')).toBe(
      '1b' + '1107' + 'be96dad9a4b4efacf84bb290572f1211' + '0809' + Buffer.from('ATT 101').toString('hex') + '00'.repeat(4),
    );
    const enable = lastEntry('LeSetAdvertiseEnable');
    expect(enable?.parameters.toString('hex')).toBe('01');
    expect(controller.linkLayer().advertisingEnabled).toBe(true);
    expect(advertiser.health()).toMatchObject({ state: 'poweredOn', inSync: true, lastError: null });
  });

  it('puts each window of a session on the controller, changing the data at every boundary', async () => {
    const windows = windowsOfSession(10, 4);
    const since = controller.log().length;
    for (const w of windows) {
      const payload = payloadForWindow(w);
      await advertise(payload);
      expect(lastEntry('LeSetAdvertisingData')?.parameters).toEqual(hciDataParameters(payload.advertisingData));
      expect(lastEntry('LeSetScanResponseData')?.parameters).toEqual(hciDataParameters(payload.scanResponse));
      expect(controller.linkLayer()).toMatchObject({ advertisingEnabled: true, advertisingData: payload.advertisingData });
    }
    // The distinct data sets the controller received, in order: one per window, none skipped.
    const sent = controller
      .log()
      .slice(since)
      .filter((entry) => entry.command === 'LeSetAdvertisingData')
      .map((entry) => entry.parameters.toString('hex'));
    const distinct = sent.filter((hex, i) => i === 0 || hex !== sent[i - 1]);
    expect(distinct).toEqual(windows.map((w) => hciDataParameters(payloadForWindow(w).advertisingData).toString('hex')));
    // Timestamps are high-resolution wall clock and monotonic within the run.
    const times = controller.log().slice(since).map((entry) => entry.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.abs(times.at(-1)! - Date.now())).toBeLessThan(5_000);
  });

  it('advertises again after the adapter goes down and comes back', async () => {
    const payload = payloadForWindow(windowsOfSession(10, 6)[5]!);
    await advertise(payload);
    controller.powerDown();
    expect(controller.linkLayer().advertisingEnabled).toBe(false);
    await eventually(() => advertiser.health().state === 'poweredOff', 3_000, 'poweredOff');
    expect(advertiser.health().inSync).toBe(false);

    const upAt = Date.now();
    const applied = once(advertiser, 'applied');
    controller.powerUp();
    await applied;
    expect(controller.linkLayer()).toMatchObject({ advertisingEnabled: true, advertisingData: payload.advertisingData, scanResponse: payload.scanResponse });
    const reEnabled = controller.advertisingLog().filter((entry) => entry.at >= upAt && entry.command === 'LeSetAdvertiseEnable');
    expect(reEnabled.map((entry) => entry.parameters.toString('hex'))).toContain('01');
    expect(advertiser.health()).toMatchObject({ state: 'poweredOn', inSync: true });
  });

  it('keeps the wanted payload while the adapter is down and applies it when it returns', async () => {
    controller.powerDown();
    await eventually(() => advertiser.health().state === 'poweredOff', 3_000, 'poweredOff');
    const payload = payloadForWindow(windowsOfSession(10, 8)[7]!);
    advertiser.setPayload(payload);
    expect(advertiser.health().inSync).toBe(false);
    const applied = once(advertiser, 'applied');
    controller.powerUp();
    await applied;
    expect(controller.linkLayer().advertisingData).toEqual(payload.advertisingData);
  });

  /** Clears the enable fault and checks the advertiser reaches the air with `advertisingData` and reports in sync. */
  async function expectRecoveryOnceFaultClears(advertisingData: Buffer): Promise<void> {
    const applied = once(advertiser, 'applied');
    controller.setFault(Opcode.LeSetAdvertiseEnable, null);
    await applied;
    expect(controller.linkLayer()).toMatchObject({ advertisingEnabled: true, advertisingData });
    expect(advertiser.health().inSync).toBe(true);
  }

  it('records the error and retries with backoff when the controller refuses to advertise', async () => {
    controller.setFault(Opcode.LeSetAdvertiseEnable, { status: STATUS_COMMAND_DISALLOWED });
    const payload = payloadForWindow(windowsOfSession(10, 9)[8]!);
    advertiser.setPayload(payload);
    const error = await eventually(() => advertiser.health().lastError ?? undefined, 3_000, 'the refusal to be recorded');
    expect(error).toMatch(/Command Disallowed/);
    expect(advertiser.health().inSync).toBe(false);

    await expectRecoveryOnceFaultClears(payload.advertisingData);
  });

  it('re-sends when the controller silently swallows the enable command', async () => {
    controller.setFault(Opcode.LeSetAdvertiseEnable, 'silent');
    const payload = payloadForWindow(windowsOfSession(10, 10)[9]!);
    advertiser.setPayload(payload);
    await eventually(() => /did not confirm/.test(advertiser.health().lastError ?? ''), 4_000, 'the confirmation timeout');
    expect(advertiser.health().inSync).toBe(false);

    await expectRecoveryOnceFaultClears(payload.advertisingData);
  });

  it('refuses a second adapter in the same process (bleno is a singleton)', async () => {
    const other = createVirtualAwareAdvertiser({ kind: 'virtual', hciDeviceId: 5, logger: testLogger() }).advertiser;
    await expect(other.start()).rejects.toThrow(/already bound to hci0/);
  });

  it('stops advertising when the payload is cleared', async () => {
    await advertise(null);
    expect(lastEntry('LeSetAdvertiseEnable')?.parameters.toString('hex')).toBe('00');
    expect(controller.linkLayer().advertisingEnabled).toBe(false);
    expect(advertiser.health()).toMatchObject({ inSync: true });
  });
});
