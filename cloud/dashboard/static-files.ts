/**
 * Serving a fixed list of local files (the dashboard page, Swagger UI from node_modules): no
 * directory listing, no path from the request ever reaches the file system, so there is nothing
 * to traverse. Files are read once and kept with a strong ETag for conditional requests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
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
}

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
      f = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, type: TYPES[path.extname(file)] ?? 'application/octet-stream' };
      this.cache.set(name, f);
    }
    return f;
  }

  /** Answers the named file (200 or 304). The caller has checked `has(name)`. */
  serve(ctx: Context, name: string): void {
    const f = this.load(name);
    ctx.set('ETag', f.etag);
    ctx.set('Cache-Control', this.maxAgeS > 0 ? `public, max-age=${this.maxAgeS}` : 'no-cache');
    if (ctx.get('If-None-Match') === f.etag) {
      ctx.status = 304;
      return;
    }
    ctx.status = 200;
    ctx.type = f.type;
    ctx.body = f.body;
  }
}
