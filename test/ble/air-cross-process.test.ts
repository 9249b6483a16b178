/**
 * The virtual air across processes, as in the end-to-end demo: this process hosts an AirHub on
 * a Unix socket; a gateway and a phone run as child processes (`node --import tsx`) that join
 * it through ATTENDANCE_VIRTUAL_AIR. The real noble on one side decodes what the real bleno on
 * the other side advertised.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findAttendanceFrame } from '../../shared/advertisement.js';
import type { ScanReport, Scanner } from '../../gateway/ble/advertiser.js';
import { createAdvertiser, createScanner, hostVirtualAir, VIRTUAL_AIR_ENV } from '../../gateway/ble/radio.js';
import type { AirHub } from '../../gateway/ble/virtual/air-hub.js';
import { eventually } from '../helpers/eventually.js';
import { ROOM_CODE, payloadForWindow, testLogger, windowsOfSession } from './classroom.js';

interface ChildMessage {
  type: string;
  w?: number;
  roomCode?: number;
  token?: string;
  rssi?: number;
  address?: string;
}

const dir = mkdtempSync(join(tmpdir(), 'att-air-'));
let hub: AirHub;
let airAddress: string;
const children: ChildProcess[] = [];

function spawnFixture(name: string, args: string[], messages: ChildMessage[]): ChildProcess {
  const child = fork(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), args, {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [VIRTUAL_AIR_ENV]: airAddress },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.on('message', (message: ChildMessage) => messages.push(message));
  children.push(child);
  return child;
}

beforeAll(async () => {
  hub = await hostVirtualAir(`unix:${join(dir, 'air.sock')}`, testLogger());
  airAddress = hub.address!;
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

afterAll(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('virtual air between processes', () => {
  it('a phone in this process decodes what a gateway process advertises', async () => {
    const [w] = windowsOfSession(10, 1);
    const fromGateway: ChildMessage[] = [];
    const reports: ScanReport[] = [];
    const scanner: Scanner = createScanner({ kind: 'virtual', logger: testLogger(), virtual: { air: airAddress, rssi: -58 } });
    scanner.on('report', (report: ScanReport) => reports.push(report));
    await scanner.start();
    try {
      spawnFixture('advertise.ts', [String(w)], fromGateway);
      await eventually(() => fromGateway.some((message) => message.type === 'advertising'), 20_000, 'the gateway process to advertise');
      const frame = await eventually(() => {
        const report = reports.find((candidate) => candidate.address === 'c0:ff:ee:00:03:01');
        return report ? findAttendanceFrame(report.advertisingData) : undefined;
      }, 5_000, 'a report from the gateway process');
      expect(frame).toEqual({ roomCode: ROOM_CODE, w, token: payloadForWindow(w!).advertisingData.subarray(16) });
    } finally {
      await scanner.stop();
    }
  });

  it('a phone process decodes what the gateway in this process advertises', async () => {
    const [, w] = windowsOfSession(10, 2);
    const fromPhone: ChildMessage[] = [];
    spawnFixture('scan.ts', [], fromPhone);
    await eventually(() => fromPhone.some((message) => message.type === 'scanning'), 20_000, 'the phone process to scan');
    const advertiser = createAdvertiser({ kind: 'virtual', logger: testLogger(), virtual: { air: airAddress, address: 'c0:ff:ee:00:03:03', airIntervalMs: 50 } });
    await advertiser.start();
    try {
      advertiser.setPayload(payloadForWindow(w!));
      const heard = await eventually(() => fromPhone.find((message) => message.type === 'frame' && message.w === w), 10_000, 'the phone to hear the frame');
      expect(heard).toMatchObject({
        address: 'c0:ff:ee:00:03:03',
        roomCode: ROOM_CODE,
        token: payloadForWindow(w!).advertisingData.subarray(16).toString('hex'),
      });
      expect(heard.rssi).toBeGreaterThanOrEqual(-75);
      expect(heard.rssi).toBeLessThanOrEqual(-69);
    } finally {
      await advertiser.stop();
    }
  });
});
