/**
 * Requests as bytes over a real socket, for what supertest would rewrite: bodies that are not
 * what their headers claim (gzip garbage, truncated streams), and streams read up to their headers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudHarness } from './cloud.js';

export interface RawAnswer {
  status: number;
  type: string;
  body: string;
}

export interface RawServer {
  send(method: string, url: string, headers: Record<string, string>, bytes?: Buffer): Promise<RawAnswer>;
  close(): Promise<void>;
}

/** Serves the harness's app on 127.0.0.1, port 0. */
export async function listenRaw(h: CloudHarness): Promise<RawServer> {
  const server = http.createServer(h.app.koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    send: (method, url, headers, bytes) => new Promise((resolve, reject) => {
      const sized = bytes ? { ...headers, 'Content-Length': String(bytes.length) } : headers;
      const req = http.request(`${base}${url}`, { method: method.toUpperCase(), headers: sized }, (res) => {
        const type = String(res.headers['content-type'] ?? '');
        if (type.startsWith('text/event-stream')) {
          res.destroy();
          resolve({ status: res.statusCode!, type, body: '' });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, type, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(bytes);
    }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
