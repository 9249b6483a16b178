/**
 * Serving a fixed list of local files (the dashboard page, Swagger UI from node_modules): no
 * directory listing, no path from the request ever reaches the file system, so there is nothing
 * to traverse. Files are read once and kept with a strong ETag for conditional requests, and
 * with a gzip copy made once for browsers that accept it (text files above 1 KiB).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Context } from 'koa';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

/**
 * The project root (the folder of our package.json), from this module's location: the same
 * whether it runs from source (cloud/dashboard) or compiled (dist/cloud/dashboard).
 */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'classroom-attendance') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the project root (package.json of classroom-attendance)');
    dir = up;
  }
}

/** The folder of an installed package (its package.json's folder). */
export function packageDir(name: string): string {
  return path.dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
}

interface CachedFile {
  body: Buffer;
  etag: string;
  type: string;
  /** The gzip copy and its own ETag (a different representation), or null when not worth it. */
  gzip: { body: Buffer; etag: string } | null;
}

const COMPRESSIBLE = /^(text\/|application\/json|image\/svg)/;
const GZIP_MIN_BYTES = 1024;

export class StaticFiles {
  private readonly cache = new Map<string, CachedFile>();

  /** `files` maps the served name to an absolute path; every file must exist now (fail at start). */
  constructor(
    private readonly files: Record<string, string>,
    private readonly maxAgeS: number,
  ) {
    for (const [name, file] of Object.entries(files)) {
      if (!fs.existsSync(file)) throw new Error(`static file ${name} is missing: ${file}`);
    }
  }

  has(name: string): boolean {
    return Object.hasOwn(this.files, name);
  }

  private load(name: string): CachedFile {
    let f = this.cache.get(name);
    if (!f) {
      const file = this.files[name]!;
      const body = fs.readFileSync(file);
      const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      const gz = COMPRESSIBLE.test(type) && body.length >= GZIP_MIN_BYTES ? gzipSync(body, { level: 9 }) : null;
      f = { body, etag, type, gzip: gz && gz.length < body.length ? { body: gz, etag: `${etag.slice(0, -1)}-gz"` } : null };
      this.cache.set(name, f);
    }
    return f;
  }

  /** Answers the named file (200 or 304). The caller has checked `has(name)`. */
  serve(ctx: Context, name: string): void {
    const f = this.load(name);
    const gzip = f.gzip && ctx.acceptsEncodings('gzip', 'identity') === 'gzip' ? f.gzip : null;
    const etag = gzip ? gzip.etag : f.etag;
    ctx.set('ETag', etag);
    ctx.set('Cache-Control', this.maxAgeS > 0 ? `public, max-age=${this.maxAgeS}` : 'no-cache');
    if (f.gzip) ctx.vary('Accept-Encoding');
    if (ctx.get('If-None-Match') === etag) {
      ctx.status = 304;
      return;
    }
    ctx.status = 200;
    ctx.type = f.type;
    if (gzip) ctx.set('Content-Encoding', 'gzip');
    ctx.body = gzip ? gzip.body : f.body;
  }
}
