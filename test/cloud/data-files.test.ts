/**
 * The cloud's data directory holds the database with every room secret, and the JWT signing key:
 * outside systemd (no StateDirectory, a umask of 022) what the cloud creates there must still be
 * readable by its own user only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';

let h: CloudHarness | undefined;
let parent: string | undefined;
afterEach(async () => {
  await h?.close();
  if (parent) fs.rmSync(parent, { recursive: true, force: true });
  h = undefined;
  parent = undefined;
});

const modeOf = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);

describe('data files', () => {
  it('the data directory and database files are private', async () => {
    const umask = process.umask(0o022);
    try {
      parent = fs.mkdtempSync(path.join(os.tmpdir(), 'att-private-'));
      const dataDir = path.join(parent, 'data');
      h = await createCloudHarness({ env: { ATTENDANCE_DATA_DIR: dataDir, DATABASE_URL: `sqlite:${path.join(dataDir, 'attendance.db')}` } });
      await h.user('admin'); // a committed write: the -wal and -shm files exist now
      const files = ['attendance.db', 'attendance.db-wal', 'attendance.db-shm'].map((f) => path.join(dataDir, f));
      expect(files.map((f) => [path.basename(f), modeOf(f)])).toEqual([['attendance.db', '600'], ['attendance.db-wal', '600'], ['attendance.db-shm', '600']]);
      expect(modeOf(dataDir)).toBe('700');
      expect(modeOf(path.join(dataDir, 'jwt-secret'))).toBe('600');
    } finally {
      process.umask(umask);
    }
  });
});
