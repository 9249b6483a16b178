/**
 * The OpenAPI document is generated from the route table: every registered route is in it with
 * the schemas that validate it, and the interactive page is served from local files only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { Validator } from '@seriousme/openapi-schema-validator';
import { openApiPath } from '../../cloud/http/openapi.js';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, {
    operationId: string; security: unknown[]; tags: string[];
    parameters: Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>;
    requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
    responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
  }>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
};

let h: CloudHarness;
let doc: Doc;
beforeAll(async () => {
  h = await createCloudHarness();
  const res = await h.http().get('/api/v1/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  doc = res.body;
});
afterAll(() => h.close());

describe('/api/v1/openapi.json', () => {
  it('is valid against the official OpenAPI 3.1 schema, $refs included', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('is OpenAPI 3.1 with one operation per registered route, paths in {param} form', () => {
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)).sort();
    const registered = h.app.routes.specs.map((s) => `${s.method} ${openApiPath(s.path)}`).sort();
    expect(documented).toEqual(registered);
    expect(documented).toContain('put /api/v1/teacher/session/{id}/attendance/{student_id}');
    expect(documented.some((d) => d.includes(':'))).toBe(false);
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('marks bearer security on protected routes and none on login', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(doc.paths['/api/v1/auth/token']!.post!.security).toEqual([]);
    expect(doc.paths['/api/v1/teacher/analytics/attendance_trends']!.get!.security).toEqual([{ bearer: [] }]);
  });

  it('documents query parameters from the zod schema, with enums, defaults and required flags', () => {
    const op = doc.paths['/api/v1/teacher/analytics/attendance_percentage']!.get!;
    const p = Object.fromEntries(op.parameters.map((x) => [x.name, x]));
    expect(p.course_id).toMatchObject({ in: 'query', required: true, schema: { type: 'string' } });
    expect(p.period).toMatchObject({ required: false, schema: { enum: ['month', 'semester'], default: 'month' } });
    expect(p.month!.schema.pattern).toBe('^\\d{4}-(0[1-9]|1[0-2])$');
    expect(p.format!.schema.enum).toEqual(['json', 'csv']);
  });

  it('documents path parameters as required', () => {
    const op = doc.paths['/api/v1/teacher/session/{id}/attendance/{student_id}']!.put!;
    expect(op.parameters.map((x) => [x.name, x.in, x.required])).toEqual([['id', 'path', true], ['student_id', 'path', true]]);
    const body = op.requestBody!.content['application/json']!.schema as { properties: Record<string, unknown>; required: string[] };
    expect(body.required.sort()).toEqual(['reason', 'status']);
    expect(body.properties.status).toMatchObject({ enum: ['present', 'late', 'absent', 'excused'] });
  });

  it('documents the request as sent (login takes JSON or the OAuth2 form) and the answer as returned', () => {
    const login = doc.paths['/api/v1/auth/token']!.post!;
    expect(Object.keys(login.requestBody!.content)).toEqual(['application/json', 'application/x-www-form-urlencoded']);
    const ok = login.responses['200']!.content!['application/json']!.schema as { properties: Record<string, unknown> };
    expect(Object.keys(ok.properties)).toEqual(['access_token', 'token_type', 'expires_in']);
  });

  it('lists CSV as a second answer of the analytics reports', () => {
    const ok = doc.paths['/api/v1/teacher/analytics/daily_class_report']!.get!.responses['200']!;
    expect(Object.keys(ok.content!)).toEqual(['application/json', 'text/csv']);
  });

  it("documents each route's error codes with the error shape", () => {
    const responses = doc.paths['/api/v1/teacher/analytics/attendance_trends']!.get!.responses;
    expect(Object.keys(responses)).toEqual(['200', '400', '401', '403', '404']);
    const codes = (status: string) => ((responses[status]!.content!['application/json']!.schema as { allOf: Array<{ properties?: { error: { properties: { code: { enum: string[] } } } } }> }).allOf[1]!.properties!.error.properties.code.enum);
    expect(codes('400')).toEqual(['validation_error', 'invalid_range', 'range_too_long']);
    expect(codes('401')).toEqual(['unauthenticated', 'invalid_token']);
    expect((responses['400']!.content!['application/json']!.schema as { allOf: unknown[] }).allOf[0]).toEqual({ $ref: '#/components/schemas/Error' });
    expect(doc.components.schemas.Error).toMatchObject({ type: 'object', required: ['error'] });
    expect(doc.paths['/api/v1/auth/token']!.post!.responses['429']).toBeDefined();
  });
});

describe('/api/v1/docs', () => {
  it('serves the interactive page from local assets only, under a CSP that forbids other origins', async () => {
    const page = await h.http().get('/api/v1/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(4);
    for (const ref of refs) {
      expect(ref.startsWith('/'), ref).toBe(true);
      const asset = await h.http().get(ref);
      expect(asset.status, ref).toBe(200);
    }
  });

  it('serves the Swagger UI bundle with a validator for caching and refuses other names', async () => {
    const js = await h.http().get('/api/v1/docs/swagger-ui-bundle.js');
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    const again = await h.http().get('/api/v1/docs/swagger-ui-bundle.js').set('If-None-Match', js.headers.etag!);
    expect(again.status).toBe(304);
    expect((await h.http().get('/api/v1/docs/package.json')).status).toBe(404);
    expect((await h.http().get('/api/v1/docs/..%2F..%2Fpackage.json')).status).toBe(404);
  });
});
