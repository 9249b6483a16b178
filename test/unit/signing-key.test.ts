/** The JWT signing key file: created on first start, and a configuration error (exit 78) when unusable. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateSigningKey } from '../../cloud/auth/keys.js';
import { ConfigError } from '../../cloud/config.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-key-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('signing key file', () => {
  it('is created with 32 random bytes, mode 0600, and read back the same', () => {
    const file = path.join(dir, 'new', 'jwt-secret');
    const key = loadOrCreateSigningKey(file);
    expect(key).toHaveLength(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(loadOrCreateSigningKey(file)).equals(Buffer.from(key))).toBe(true);
  });

  it('may be wrapped over several lines, as openssl rand -base64 writes it', () => {
    const file = path.join(dir, 'wrapped');
    const b64 = Buffer.alloc(48, 9).toString('base64');
    fs.writeFileSync(file, `${b64.slice(0, 40)}\n${b64.slice(40)}\n`);
    expect(loadOrCreateSigningKey(file)).toHaveLength(48);
  });

  it.each([
    ['unreadable', (file: string) => fs.mkdirSync(file), 'cannot be read'],
    ['too short', (file: string) => fs.writeFileSync(file, Buffer.alloc(16, 1).toString('base64')), 'at least 32 bytes (it has 16)'],
    ['not base64', (file: string) => fs.writeFileSync(file, '{"key": "not base64"}\n'), 'must hold base64'],
  ])('a file that is %s is a configuration error naming ATTENDANCE_JWT_SECRET_FILE', (what, make, says) => {
    const file = path.join(dir, what.replace(/ /g, '-'));
    make(file);
    let thrown: unknown;
    try {
      loadOrCreateSigningKey(file);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([expect.stringMatching(/^ATTENDANCE_JWT_SECRET_FILE: the signing key /)]);
    expect((thrown as ConfigError).message).toContain(says);
  });
});
