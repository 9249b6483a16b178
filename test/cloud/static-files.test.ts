/**
 * The web pages' files: the console's modules by exact name only (no traversal, no listing), the
 * page's security headers on each, and the gzip copy for browsers that accept it, with its own
 * validator so a cache never mixes the two representations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';

let h: CloudHarness;
beforeAll(async () => {
  h = await createCloudHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('console files', () => {
  it('serves the page and its modules with the content security policy, and nothing else', async () => {
    const page = await h.http().get('/console');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const js = await h.http().get('/console/i18n.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.headers['x-frame-options']).toBe('DENY');
    expect((await h.http().get('/console/messages/de/common.js')).text).toContain("'app.name': 'Anwesenheit'");
    for (const bad of ['/console/nope.js', '/console/..%2F..%2F..%2Fpackage.json', '/console/../routes.ts', '/console/messages', '/console/console.html']) {
      expect((await h.http().get(bad)).status, bad).toBe(404);
    }
  });

  it('answers gzip to a browser that accepts it and plain bytes to one that does not, each with its own ETag', async () => {
    const raw = await h.http().get('/console/console.js').set('Accept-Encoding', 'identity');
    expect(raw.headers['content-encoding']).toBeUndefined();
    const gz = await h.http().get('/console/console.js').set('Accept-Encoding', 'gzip, deflate, br');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toContain('Accept-Encoding');
    expect(gz.text).toBe(raw.text); // supertest inflates it: the same module
    expect(gz.headers.etag).not.toBe(raw.headers.etag);
    const again = await h.http().get('/console/console.js').set('Accept-Encoding', 'gzip').set('If-None-Match', gz.headers.etag!);
    expect(again.status).toBe(304);
    const mixed = await h.http().get('/console/console.js').set('Accept-Encoding', 'identity').set('If-None-Match', gz.headers.etag!);
    expect(mixed.status).toBe(200);
  });
});
