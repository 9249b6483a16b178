/**
 * Compressed request bodies: a body the server cannot decompress (cut short in transit, or not
 * compressed at all) is the client's error, answered 400 `malformed_body` — never a 500.
 */
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { listenRaw, type RawServer } from '../helpers/raw-http.js';

let h: CloudHarness;
let server: RawServer;
let admin: Awaited<ReturnType<CloudHarness['user']>>;
beforeAll(async () => {
  h = await createCloudHarness();
  server = await listenRaw(h);
  admin = await h.user('admin');
});
afterAll(async () => {
  await server.close();
  await h.close();
});

const room = (encoding: string, bytes: Buffer) =>
  server.send('post', '/api/v1/admin/rooms', { ...admin.auth, 'Content-Type': 'application/json', 'Content-Encoding': encoding }, bytes);
const MALFORMED = { error: { code: 'malformed_body', message: 'request body could not be decoded (check Content-Encoding)' } };

describe('compressed request bodies', () => {
  it('a gzip body is decompressed and parsed', async () => {
    const res = await room('gzip', zlib.gzipSync(JSON.stringify({ name: 'Room G' })));
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body).name).toBe('Room G');
  });

  it('a truncated gzip body answers 400', async () => {
    const gz = zlib.gzipSync(JSON.stringify({ name: 'Room T' }));
    for (const cut of [gz.subarray(0, gz.length - 8), gz.subarray(0, 12)]) {
      const res = await room('gzip', cut);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toEqual(MALFORMED);
    }
  });

  it('a body that is not what its Content-Encoding says answers 400', async () => {
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const res = await room(encoding, Buffer.from('{"name":"plain"}'));
      expect({ encoding, status: res.status, body: JSON.parse(res.body) }).toEqual({ encoding, status: 400, body: MALFORMED });
    }
    expect((await h.store.rooms.list()).map((r) => r.name)).toEqual(['Room G']);
  });
});
