/**
 * Request generation for the API fuzz test: a small seeded PRNG and values drawn from the JSON
 * Schemas of the OpenAPI document — valid ones, wrong types, missing fields, huge strings,
 * unicode and calendar extremes — so every run with the same seed sends the same requests.
 */
import zlib from 'node:zlib';

export type JsonSchema = Record<string, unknown>;

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: 32 bits of state, good enough to spread cases, and the same on every machine. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, chance: (p) => next() < p, pick: (items) => items[int(items.length)]! };
}

/** A version-4 UUID drawn from the PRNG, so a seed names the same requests every run. */
export function uuidFrom(rng: Rng): string {
  const hex = Array.from({ length: 32 }, () => rng.int(16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[rng.int(4)]}${hex.slice(17, 20)}-${hex.slice(20)}`;
}

/** Values no schema expects: wrong types, extremes, unicode, the calendar's edges. */
const NASTY: readonly unknown[] = [
  null, true, 0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e308, '', ' ', 'null', '-1', '1e309', '0x10',
  '9999-12-31', '0000-01-01', '9999-12', '0000-01', '2026-02-30', '24:60', '99:99',
  '\u0000', '\ud800', '😀'.repeat(50), 'ẞ\u0301\u202e', '<script>', "' or 1=1 --", '../../etc/passwd', '%00',
  [], [null], {}, { __proto__: { admin: true } }, { constructor: { prototype: {} } },
];

/** Strings that look like the ids, dates and times the schemas want, so validation sometimes passes. */
function stringFor(schema: JsonSchema, name: string, rng: Rng, ids: readonly string[]): string {
  const pattern = String(schema.pattern ?? '');
  const format = String(schema.format ?? '');
  if (Array.isArray(schema.enum)) return String(rng.pick(schema.enum));
  if (format === 'uuid' || pattern.includes('[0-9a-f]{8}') || /(^|_)id$/.test(name)) return rng.chance(0.8) && ids.length ? rng.pick(ids) : uuidFrom(rng);
  if (format === 'email' || name.includes('email')) return `fuzz${rng.int(1000)}@uni.example`;
  if (format === 'date' || pattern.startsWith('^\\d{4}-\\d{2}-\\d{2}')) return rng.pick(['2026-09-07', '2026-01-31', '2028-02-29', '9999-12-31', '1970-01-01']);
  if (pattern.startsWith('^\\d{4}-')) return rng.pick(['2026-09', '9999-12', '1970-01']);
  if (format === 'date-time') return rng.pick(['2026-09-07T08:00:00.000Z', '9999-12-31T23:59:59.999Z']);
  if (pattern.includes(':') || /(^|_)(start|end)(_time)?$/.test(name)) return rng.pick(['08:00', '09:30', '23:59', '00:00']);
  if (pattern.includes('[0-9a-fA-F]') || name.includes('frame')) return rng.pick(['00', 'ff'.repeat(17), '01'.repeat(17)]);
  const min = Number(schema.minLength ?? 1);
  const max = Math.min(Number(schema.maxLength ?? 40), 200);
  const len = Math.max(min, Math.min(max, min + rng.int(12)));
  return 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(10).slice(0, len) || 'x';
}

function numberFor(schema: JsonSchema, rng: Rng): number {
  const min = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : 0;
  const max = typeof schema.maximum === 'number' ? schema.maximum : typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum - 1 : min + 1000;
  const v = rng.pick([min, max, min + rng.next() * (max - min)]);
  return schema.type === 'integer' ? Math.round(v) : v;
}

/** A value the schema accepts, as far as the schema says (refinements in code may still refuse it). */
export function validValue(schema: JsonSchema, rng: Rng, ids: readonly string[], name = '', depth = 0): unknown {
  if ('const' in schema) return schema.const;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key] as JsonSchema[] | undefined;
    if (options?.length) return validValue(rng.pick(options), rng, ids, name, depth);
  }
  if (Array.isArray(schema.allOf)) return validValue(Object.assign({}, ...(schema.allOf as JsonSchema[])), rng, ids, name, depth);
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string | undefined];
  const type = rng.pick(types.filter((t) => t !== 'null').length ? types.filter((t) => t !== 'null') : types);
  switch (type) {
    case 'string': return stringFor(schema, name, rng, ids);
    case 'integer': case 'number': return numberFor(schema, rng);
    case 'boolean': return rng.chance(0.5);
    case 'null': return null;
    case 'array': {
      if (depth > 4) return [];
      const items = (schema.items ?? {}) as JsonSchema;
      const min = Number(schema.minItems ?? 0);
      const n = Math.min(Number(schema.maxItems ?? 5), min + rng.int(4));
      return Array.from({ length: n }, () => validValue(items, rng, ids, name.replace(/s$/, ''), depth + 1));
    }
    case 'object': {
      if (depth > 4) return {};
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema.required ?? []) as string[]);
      const out: Record<string, unknown> = {};
      for (const [key, prop] of Object.entries(props)) if (required.has(key) || rng.chance(0.6)) out[key] = validValue(prop, rng, ids, key, depth + 1);
      return out;
    }
    default: return rng.pick(['x', 1, true, null]);
  }
}

/** A value that should not pass: a nasty one, or a long string (huge ones only where a body carries them). */
export function invalidValue(rng: Rng, huge = true): unknown {
  if (rng.chance(0.1)) return 'A'.repeat(huge ? rng.pick([300, 70_000, 300_000]) : 300);
  return rng.pick(NASTY);
}

/** A request body for the schema: valid, with one field broken, one required field missing, extras, or nonsense. */
export function bodyFor(schema: JsonSchema, rng: Rng, ids: readonly string[]): unknown {
  const valid = validValue(schema, rng, ids);
  const roll = rng.next();
  if (roll < 0.35 || typeof valid !== 'object' || valid === null || Array.isArray(valid)) return roll < 0.85 ? valid : invalidValue(rng);
  const obj = { ...(valid as Record<string, unknown>) };
  const keys = Object.keys(obj);
  if (roll < 0.6 && keys.length) obj[rng.pick(keys)] = invalidValue(rng);
  else if (roll < 0.75 && keys.length) delete obj[rng.pick(keys)];
  else if (roll < 0.85) obj[rng.pick(['extra', 'role', 'id', '__proto__'])] = invalidValue(rng);
  else return invalidValue(rng);
  return obj;
}

/** A path segment: a known id, a fresh UUID, or something that is no id at all. */
export function pathValue(rng: Rng, ids: readonly string[]): string {
  const v = rng.pick([
    () => (ids.length ? rng.pick(ids) : uuidFrom(rng)), () => (ids.length ? rng.pick(ids) : uuidFrom(rng)), () => uuidFrom(rng),
    () => 'x', () => '00000000-0000-0000-0000-000000000000', () => 'Z'.repeat(3000), () => '😀', () => '%', () => '..', () => '1e309',
  ])();
  return encodeURIComponent(v).replace(/^\.\.$/, '%2E%2E');
}

/** Query-string value for a parameter's schema: valid or not (short enough for Node's 16 KB header limit). */
export function queryValue(schema: JsonSchema, name: string, rng: Rng, ids: readonly string[]): string {
  const v = rng.chance(0.7) ? validValue(schema, rng, ids, name) : invalidValue(rng, false);
  return typeof v === 'string' ? v : JSON.stringify(v) ?? '';
}

/** The bytes on the wire and the headers that describe them: JSON mostly, sometimes broken or mislabelled. */
export function encodeBody(body: unknown, rng: Rng): { bytes: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(body) ?? 'null');
  const contentType = rng.pick([
    'application/json', 'application/json', 'application/json', 'application/json; charset=utf-8',
    'application/x-www-form-urlencoded', 'text/plain', 'text/csv', 'application/xml', 'multipart/form-data; boundary=x', '',
  ]);
  const headers: Record<string, string> = contentType ? { 'Content-Type': contentType } : {};
  let bytes = json;
  if (contentType === 'application/x-www-form-urlencoded' && body && typeof body === 'object') {
    bytes = Buffer.from(new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v) ?? ''])).toString());
  }
  const roll = rng.next();
  if (roll < 0.05) bytes = Buffer.from('{"a":');
  else if (roll < 0.1) {
    headers['Content-Encoding'] = 'gzip';
    bytes = zlib.gzipSync(bytes);
  } else if (roll < 0.15) {
    headers['Content-Encoding'] = 'gzip';
    const gz = zlib.gzipSync(bytes);
    bytes = gz.subarray(0, Math.max(1, gz.length - 1 - rng.int(gz.length)));
  } else if (roll < 0.18) {
    headers['Content-Encoding'] = rng.pick(['gzip', 'deflate', 'br', 'compress']);
    bytes = Buffer.from('definitely not compressed');
  }
  return { bytes, headers };
}
