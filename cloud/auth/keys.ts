/**
 * The JWT signing key. There is no default secret: on first start 32 random bytes are written to
 * the data dir (mode 0600), or the operator gives a file (ATTENDANCE_JWT_SECRET_FILE), which
 * several cloud instances behind a load balancer must share. A file that cannot be read or
 * created, is not base64, or holds fewer than 32 bytes is a configuration error (exit 78).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../config.js';

const MIN_SECRET_BYTES = 32;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function problem(file: string, what: string): ConfigError {
  return new ConfigError([`ATTENDANCE_JWT_SECRET_FILE: the signing key ${file} ${what}`]);
}

export function loadOrCreateSigningKey(file: string): Uint8Array {
  let text: string;
  try {
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      try {
        fs.writeFileSync(file, randomBytes(MIN_SECRET_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
      } catch (e) {
        // Another instance created it between our check and write: use theirs.
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    // Line breaks are allowed: `openssl rand -base64 48` wraps its output.
    text = fs.readFileSync(file, 'utf8').replace(/\s+/g, '');
  } catch (e) {
    throw problem(file, `cannot be read or created: ${(e as Error).message}`);
  }
  if (!BASE64.test(text)) throw problem(file, 'must hold base64');
  const key = Buffer.from(text, 'base64');
  if (key.length < MIN_SECRET_BYTES) throw problem(file, `must hold at least ${MIN_SECRET_BYTES} bytes (it has ${key.length})`);
  return key;
}
