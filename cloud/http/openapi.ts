/**
 * The OpenAPI 3.1 document, generated from the route table's specs: the zod schemas that
 * validate a request are the ones published (z.toJSONSchema, JSON Schema 2020-12, which is
 * OpenAPI 3.1's dialect), so documentation cannot drift from validation. Nothing here is
 * written per route by hand.
 */
import { z } from 'zod';
import type { RouteSpec } from './route.js';
import { errorOut } from './schemas.js';

type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** Request schemas are documented as the client sends them (before defaults and transforms). */
export function jsonSchemaOf(schema: z.ZodType, io: Io): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

/** Koa's `/session/:id/attendance/:student_id` → OpenAPI's `/session/{id}/attendance/{student_id}`. */
export function openApiPath(koaPath: string): string {
  return koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function operationId(spec: RouteSpec): string {
  return `${spec.method}_${spec.path.replace(/^\/api\/v1\//, '').replace(/:([A-Za-z0-9_]+)/g, 'by_$1').replace(/[^A-Za-z0-9]+/g, '_')}`;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const js = jsonSchemaOf(schema, 'input');
  const props = (js.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((js.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...propSchema } = s;
    return { name, in: where, required: where === 'path' || required.has(name), schema: propSchema, ...(description ? { description } : {}) };
  });
}

/** The error codes a route can answer, by status: its own list plus what the route table adds. */
function errorCodes(spec: RouteSpec): Map<number, Set<string>> {
  const byStatus = new Map<number, Set<string>>();
  const add = (status: number, code: string) => byStatus.set(status, (byStatus.get(status) ?? new Set()).add(code));
  if (spec.body || spec.query || spec.params) add(400, 'validation_error');
  if (spec.body) {
    add(400, 'malformed_json');
    add(400, 'malformed_body');
    add(413, 'payload_too_large');
    add(415, 'unsupported_media_type');
  }
  if (spec.auth !== 'public') {
    add(401, 'unauthenticated');
    add(401, 'invalid_token');
    add(403, 'forbidden');
  }
  for (const [status, code] of spec.errors ?? []) add(status, code);
  return byStatus;
}

const REASON: Record<number, string> = {
  400: 'Bad request', 401: 'Not authenticated', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict',
  413: 'Payload too large', 415: 'Unsupported media type', 422: 'Unprocessable', 429: 'Too many requests', 503: 'Unavailable',
};

function errorResponses(spec: RouteSpec): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const [status, codes] of [...errorCodes(spec)].sort((a, b) => a[0] - b[0])) {
    const list = [...codes];
    out[String(status)] = {
      description: `${REASON[status] ?? 'Error'}: ${list.map((c) => `\`${c}\``).join(', ')}`,
      content: {
        'application/json': {
          schema: { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { error: { properties: { code: { enum: list } } } } }] },
        },
      },
    };
  }
  return out;
}

function requestBody(spec: RouteSpec): JsonSchema | undefined {
  if (!spec.body) return undefined;
  const schema = jsonSchemaOf(spec.body, 'input');
  const content: Record<string, JsonSchema> = { 'application/json': { schema } };
  for (const type of spec.bodyMediaTypes ?? []) {
    // Form bodies carry the same fields as JSON; text bodies (CSV) are one string.
    content[type] = { schema: type.startsWith('text/') ? { type: 'string' } : schema };
  }
  return { required: true, content };
}

function successResponse(spec: RouteSpec): [string, JsonSchema] {
  const status = spec.status ?? 200;
  if (status === 204) return ['204', { description: 'Done, no content' }];
  const content: Record<string, JsonSchema> = {};
  if (spec.response || !spec.responseMediaTypes?.length) content['application/json'] = { schema: spec.response ? jsonSchemaOf(spec.response, 'output') : {} };
  for (const type of spec.responseMediaTypes ?? []) content[type] = { schema: { type: 'string' } };
  return [String(status), { description: status === 201 ? 'Created' : 'OK', content }];
}

function operation(spec: RouteSpec): JsonSchema {
  const [status, success] = successResponse(spec);
  const body = requestBody(spec);
  const roles = spec.auth === 'public' ? 'Public.' : `Roles: ${spec.auth.join(', ')}.`;
  return {
    operationId: operationId(spec),
    summary: spec.summary,
    description: [spec.description, roles].filter(Boolean).join('\n\n'),
    tags: [spec.tag],
    security: spec.auth === 'public' ? [] : [{ bearer: [] }],
    parameters: [...parameters(spec.params, 'path'), ...parameters(spec.query, 'query')],
    ...(body ? { requestBody: body } : {}),
    responses: { [status]: success, ...errorResponses(spec) },
  };
}

export function buildOpenApiDocument(specs: readonly RouteSpec[], info: OpenApiInfo): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const spec of specs) {
    const path = openApiPath(spec.path);
    paths[path] = { ...paths[path], [spec.method]: operation(spec) };
  }
  const tags = [...new Set(specs.map((s) => s.tag))].map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: { title: info.title, version: info.version, ...(info.description ? { description: info.description } : {}) },
    servers: [{ url: '/' }],
    tags,
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from POST /api/v1/auth/token.' },
      },
      schemas: { Error: jsonSchemaOf(errorOut, 'output') },
    },
  };
}
