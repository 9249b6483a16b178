/**
 * The JWT signing key. There is no default secret: on first start 32 random bytes are written to
 * the data dir (mode 0600), or the operator gives a file (ATTENDANCE_JWT_SECRET_FILE), which
 * several cloud instances behind a load balancer must share.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

const MIN_SECRET_BYTES = 32;

export function loadOrCreateSigningKey(file: string): Uint8Array {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, randomBytes(MIN_SECRET_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (e) {
      // Another instance created it between our check and write: use theirs.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length < MIN_SECRET_BYTES) {
    throw new Error(`signing key in ${file} must be at least ${MIN_SECRET_BYTES} bytes of base64`);
  }
  return key;
}
