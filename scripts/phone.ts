/**
 * A command-line phone for developers: checks in once at a room's gateway over GATT on a virtual
 * air (e.g. the demo's), with a P-256 check-in key kept in a PEM file (created on first use), and
 * prints the receipt and the key's `checkin_key` to enrol with a passkey registration.
 *
 *   node --import tsx scripts/phone.ts --air unix:data/demo/air.sock --room <room code> --key phone.pem
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { formatAirAddress, parseAirAddress } from '../gateway/ble/virtual/air-hub.js';
import { checkinKeyOf } from '../shared/checkin-phone.js';
import { GattPhone } from './classroom/checkin-phone.js';

const USAGE = 'usage: node --import tsx scripts/phone.ts --air <unix:path | tcp://host:port> --room <room code> --key <pem file>';

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

/** The key in `file`, or a new one written there (mode 0600). Refuses a file that is not a P-256 private key. */
function loadOrCreateKey(file: string): KeyObject {
  if (!fs.existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    console.log(`new check-in key written to ${file}`);
    return privateKey;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(fs.readFileSync(file));
  } catch (e) {
    fail(`${file} is not a private key (${(e as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') fail(`${file} is not a P-256 key`);
  return key;
}

async function main(): Promise<void> {
  let values: { air?: string; room?: string; key?: string };
  try {
    ({ values } = parseArgs({ options: { air: { type: 'string' }, room: { type: 'string' }, key: { type: 'string' } } }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (!values.air || !values.room || !values.key) fail('--air, --room and --key are required');
  const room = Number(values.room);
  if (!/^\d+$/.test(values.room) || !Number.isSafeInteger(room) || room > 0xffffffff) fail(`--room must be a room code (0 to 4294967295), got ${values.room}`);

  // A relative socket path is taken from the current directory (the demo's is unix:data/demo/air.sock).
  const given = values.air.startsWith('unix:') && !values.air.startsWith('unix:/') ? `unix:${path.resolve(values.air.slice(5))}` : values.air;
  let air: string;
  try {
    air = formatAirAddress(parseAirAddress(given));
  } catch (e) {
    fail((e as Error).message);
  }

  const privateKey = loadOrCreateKey(values.key);
  const { checkinKey, keyId } = checkinKeyOf(privateKey);
  console.log(`checkin_key ${checkinKey} (key_id ${keyId.toString('hex')})`);
  const phone = await GattPhone.start(0, air, pino({ level: process.env.LOG_LEVEL ?? 'warn' }));
  const { receipt, frame, attempts } = await phone.checkIn(room, { privateKey, keyId });
  console.log(`room ${frame.roomCode} window ${receipt.w}: ${receipt.status} (${attempts} attempt${attempts > 1 ? 's' : ''}, phone ${phone.address})`);
  process.exit(receipt.status === 'queued' || receipt.status === 'duplicate' ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error('phone failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
