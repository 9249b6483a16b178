/**
 * The console's page weight: for each page, the bytes a browser fetches on a first visit (the
 * HTML, the style sheets it links, console.js and every module it imports, then the page's
 * module and its imports), raw and gzip-compressed, read from the files the server serves.
 * Imports are followed as the browser follows them (static `import … from` and the route table's
 * page modules), so a page that pulls in a heavy library shows it.
 *
 *   npm run bench:page-weight
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { projectRoot } from '../cloud/dashboard/static-files.js';

const STATIC = path.join(projectRoot(), 'cloud', 'dashboard', 'static');
const CONSOLE = path.join(STATIC, 'console');

/** The file behind a URL path the console uses (/console/…, /dashboard/…). */
function fileOf(url: string): string {
  if (url.startsWith('/console/')) return path.join(CONSOLE, url.slice('/console/'.length));
  if (url.startsWith('/dashboard/')) return path.join(STATIC, url.slice('/dashboard/'.length));
  throw new Error(`not a console asset: ${url}`);
}

function resolve(from: string, spec: string): string {
  if (spec.startsWith('/')) return fileOf(spec);
  return path.resolve(path.dirname(from), spec);
}

/** The file and every module it imports statically, transitively. */
function moduleGraph(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const src = fs.readFileSync(entry, 'utf8');
  for (const m of src.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) moduleGraph(resolve(entry, m[1]!), seen);
  for (const m of src.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) moduleGraph(resolve(entry, m[1]!), seen);
  return seen;
}

function weigh(files: Iterable<string>): { files: number; raw: number; gzip: number } {
  let raw = 0;
  let gzip = 0;
  let n = 0;
  for (const f of files) {
    const body = fs.readFileSync(f);
    raw += body.length;
    gzip += gzipSync(body, { level: 6 }).length;
    n++;
  }
  return { files: n, raw, gzip };
}

const html = path.join(CONSOLE, 'console.html');
const htmlText = fs.readFileSync(html, 'utf8');
const styles = [...htmlText.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => fileOf(m[1]!));
const frame = new Set([html, ...styles, ...moduleGraph(path.join(CONSOLE, 'console.js'))]);
const { ROUTES } = (await import(path.join(CONSOLE, 'routes.js'))) as { ROUTES: Array<{ path: string; module: string }> };

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const rows: string[][] = [];
const base = weigh(frame);
rows.push(['(frame: HTML, CSS, console.js and its imports)', String(base.files), kb(base.raw), kb(base.gzip)]);
for (const r of ROUTES) {
  const entry = path.join(CONSOLE, r.module);
  if (!fs.existsSync(entry)) {
    rows.push([`#/${r.path}`, '—', 'missing', '']);
    continue;
  }
  const w = weigh(new Set([...frame, ...moduleGraph(entry)]));
  rows.push([`#/${r.path}`, String(w.files), kb(w.raw), kb(w.gzip)]);
}
const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length), ['page', 'files', 'raw', 'gzip'][i]!.length));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(['page', 'files', 'raw', 'gzip']));
for (const row of rows) console.log(line(row));
