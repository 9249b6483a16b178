/**
 * `attendance-gateway scan`: an installer's check that the beacon is on air. Prints each distinct
 * attendance advertisement heard (room code, window, RSSI), decoded with the shared codec.
 */
import type { Logger } from 'pino';
import { findAttendanceFrame } from '../../shared/advertisement.js';
import type { ScanReport } from '../ble/advertiser.js';
import { createScanner, type RadioKind } from '../ble/radio.js';
import { findIdleFrame } from '../on-air.js';

export interface ScanOptions {
  radio: RadioKind;
  hciDeviceId?: number;
  companyId: number;
  seconds: number;
  json: boolean;
  log: Logger;
}

export function describeReport(r: ScanReport, companyId: number): Record<string, unknown> | null {
  const frame = findAttendanceFrame(r.advertisingData, companyId);
  if (frame) {
    return { address: r.address, rssi: r.rssi, room_code: frame.roomCode, w: frame.w, token: frame.token.toString('hex'), at: new Date(r.at).toISOString() };
  }
  const idle = findIdleFrame(r.advertisingData, companyId);
  return idle ? { address: r.address, rssi: r.rssi, room_code: idle.roomCode, w: null, idle: true, at: new Date(r.at).toISOString() } : null;
}

export async function scan(opts: ScanOptions): Promise<number> {
  const scanner = createScanner({ kind: opts.radio, logger: opts.log, ...(opts.hciDeviceId !== undefined && { hciDeviceId: opts.hciDeviceId }) });
  const printed = new Set<string>();
  let heard = 0;
  scanner.on('report', (r: ScanReport) => {
    const d = describeReport(r, opts.companyId);
    if (!d) return;
    const key = `${d.address}|${d.w}`;
    if (printed.has(key)) return;
    printed.add(key);
    heard++;
    if (opts.json) {
      console.log(JSON.stringify(d));
      return;
    }
    if (d.idle) {
      console.log(`${d.address}  rssi ${d.rssi} dBm  room ${d.room_code}  idle (no session)`);
      return;
    }
    console.log(`${d.address}  rssi ${d.rssi} dBm  room ${d.room_code}  window ${d.w}  token ${d.token}`);
  });
  await scanner.start();
  if (!opts.json) console.log(`scanning for ${opts.seconds} s (company id 0x${opts.companyId.toString(16).padStart(4, '0')})...`);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, opts.seconds * 1000);
    process.once('SIGINT', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  await scanner.stop();
  if (!opts.json) console.log(heard === 0 ? 'no attendance beacon heard' : `${heard} distinct advertisement(s)`);
  return heard === 0 ? 2 : 0;
}
