/**
 * The real noble hears the real bleno through the in-process virtual air: a gateway
 * advertiser on hci0 and a student's scanner on hci1, in one process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAttendanceFrame } from '../../shared/advertisement.js';
import type { Advertiser, ScanReport, Scanner } from '../../gateway/ble/advertiser.js';
import { createVirtualAwareAdvertiser, createVirtualAwareScanner } from '../../gateway/ble/radio.js';
import { InProcessAir } from '../../gateway/ble/virtual/air.js';
import type { VirtualController } from '../../gateway/ble/virtual/controller.js';
import { eventually } from '../helpers/eventually.js';
import { ROOM_CODE, payloadForWindow, testLogger, windowsOfSession } from './classroom.js';

const GATEWAY_ADDRESS = 'c0:ff:ee:00:02:01';
const air = new InProcessAir();
let advertiser: Advertiser;
let scanner: Scanner;
let scannerController: VirtualController;
const reports: ScanReport[] = [];
const scannerStates: string[] = [];

beforeAll(async () => {
  const logger = testLogger();
  ({ advertiser } = createVirtualAwareAdvertiser({
    kind: 'virtual',
    logger,
    virtual: { air, address: GATEWAY_ADDRESS, airIntervalMs: 50 },
  }) as { advertiser: Advertiser });
  ({ scanner, controller: scannerController } = createVirtualAwareScanner({
    kind: 'virtual',
    logger,
    virtual: { air, address: 'c0:ff:ee:00:02:02', rssi: -67, rssiJitterDb: 2 },
  }) as { scanner: Scanner; controller: VirtualController });
  scanner.on('report', (report: ScanReport) => reports.push(report));
  scanner.on('state', (state: string) => scannerStates.push(state));
  await advertiser.start();
  await scanner.start();
  await eventually(() => advertiser.health().state === 'poweredOn', 5_000, 'bleno poweredOn');
});

afterAll(async () => {
  await scanner.stop();
  await advertiser.stop();
  await air.close();
});

function framesHeard(since: number): Array<{ w: number; token: string; rssi: number }> {
  return reports
    .filter((report) => report.at >= since && report.address === GATEWAY_ADDRESS)
    .flatMap((report) => {
      const frame = findAttendanceFrame(report.advertisingData);
      return frame && frame.roomCode === ROOM_CODE ? [{ w: frame.w, token: frame.token.toString('hex'), rssi: report.rssi }] : [];
    });
}

describe('virtual air, one process', () => {
  it('noble decodes the frame bleno advertises, with the configured RSSI', async () => {
    const [w] = windowsOfSession(10, 1);
    const payload = payloadForWindow(w!);
    const since = Date.now();
    advertiser.setPayload(payload);
    const heard = await eventually(() => {
      const frames = framesHeard(since);
      return frames.length >= 3 ? frames : undefined;
    }, 5_000, 'three reports of the frame');
    const expectedToken = payload.advertisingData.subarray(16).toString('hex');
    for (const frame of heard) {
      expect(frame).toMatchObject({ w, token: expectedToken });
      expect(frame.rssi).toBeGreaterThanOrEqual(-69);
      expect(frame.rssi).toBeLessThanOrEqual(-65);
    }
    // noble scans actively, so it asked for the scan response too (LE Set Scan Parameters type 0x01).
    expect(scannerController.linkLayer()).toMatchObject({ scanEnabled: true, activeScan: true, filterDuplicates: false });
  });

  it('hears the next window once the gateway rotates', async () => {
    const [, next] = windowsOfSession(10, 2);
    const since = Date.now();
    advertiser.setPayload(payloadForWindow(next!));
    await eventually(() => framesHeard(since).some((frame) => frame.w === next), 5_000, 'the next window on air');
  });

  it('scans again after the phone\'s adapter goes down and comes back', async () => {
    const [, , w] = windowsOfSession(10, 3);
    advertiser.setPayload(payloadForWindow(w!));
    scannerController.powerDown();
    await eventually(() => !scannerController.linkLayer().scanEnabled && scannerStates.includes('poweredOff'), 3_000, 'scanner poweredOff');
    const since = Date.now();
    scannerController.powerUp();
    await eventually(() => framesHeard(since).some((frame) => frame.w === w), 5_000, 'reports after the adapter returned');
  });

  it('hears nothing from the gateway after it stops advertising', async () => {
    advertiser.setPayload(null);
    await eventually(() => advertiser.health().inSync, 2_000, 'advertising stopped');
    await new Promise((resolve) => setTimeout(resolve, 150)); // packets already in flight
    const since = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(framesHeard(since)).toEqual([]);
  });
});
