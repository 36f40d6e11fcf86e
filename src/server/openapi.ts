/**
 * The OpenAPI 3.0 document of the HTTP API v1, served at
 * `/api/v1/openapi.json`. Written by hand from docs/http-api.md; a test
 * (test/server/openapi.test.ts) checks it against the real route table of
 * the app in both directions, and calls every documented operation.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const anyJson: Schema = { description: 'Any JSON value' };

const errorResponses = (...codes: number[]): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const code of codes) out[String(code)] = { $ref: `#/components/responses/E${code}` };
  return out;
};

const ok = (schema: Schema, description = 'OK'): Record<string, unknown> => ({
  description,
  content: { 'application/json': { schema } },
});

const jsonBody = (schema: Schema, required = true): Record<string, unknown> => ({
  required,
  content: { 'application/json': { schema } },
});

const keyParam = {
  name: 'key',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'A psmc key, e.g. display.units',
};
const nameParam = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
  description: 'A snapshot name',
};
const ifMatch = {
  name: 'If-Match',
  in: 'header',
  required: false,
  schema: { type: 'string' },
  description:
    'Compare-and-set: the revision of the key the client last saw (0: the key must not exist). Quotes allowed.',
};
const query = (name: string, description: string, schema: Schema = { type: 'string' }): Record<string, unknown> => ({
  name,
  in: 'query',
  required: false,
  schema,
  description,
});

const READ = [{ bearer: ['read'] }, { session: ['read'] }];
const WRITE = [{ bearer: ['write'] }, { session: ['write'] }];

/** The document. `version` is psmc's version (info.version). */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'psmc HTTP API',
      version,
      description:
        'The JSON API of `psmc serve`. See docs/http-api.md. Every route needs a token (Authorization: Bearer) or a browser session cookie; errors are {"error":{code,message,hint,details?}}.',
    },
    servers: [{ url: '/api/v1' }],
    security: READ,
    paths: {
      '/health': {
        get: {
          operationId: 'health',
          summary: 'Liveness',
          responses: {
            '200': ok({ type: 'object', properties: { ok: { type: 'boolean' } } }),
            ...errorResponses(401, 403),
          },
        },
      },
      '/status': {
        get: {
          operationId: 'status',
          summary: 'Database, mirror, revision, conflicts, watchers, version',
          responses: { '200': ok(ref('Status')), ...errorResponses(401, 403) },
        },
      },
      '/session': {
        get: {
          operationId: 'session',
          summary: 'Who the caller is and what it may do',
          responses: {
            '200': ok({
              type: 'object',
              properties: {
                scopes: { type: 'array', items: { type: 'string', enum: ['read', 'write'] } },
                name: { type: 'string' },
                kind: { type: 'string', enum: ['token', 'session', 'login'] },
                store: { type: 'string' },
              },
            }),
            ...errorResponses(401, 403),
          },
        },
      },
      '/logout': {
        post: {
          operationId: 'logout',
          summary: 'End the browser session',
          responses: { '200': ok({ type: 'object' }), ...errorResponses(401, 403, 415) },
        },
      },
      '/keys': {
        get: {
          operationId: 'listKeys',
          summary: 'Keys and their resolved values',
          parameters: [
            query('prefix', 'Only keys under this prefix'),
            query('layers', '1: include every layer per key', { type: 'string', enum: ['0', '1', 'true', 'false'] }),
          ],
          responses: {
            '200': ok({
              type: 'object',
              required: ['revision', 'keys'],
              properties: { revision: { type: 'integer' }, keys: { type: 'array', items: ref('Entry') } },
            }),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      '/keys/{key}': {
        parameters: [keyParam],
        get: {
          operationId: 'getKey',
          summary: 'One key with where its value comes from',
          responses: { '200': ok(ref('Entry')), ...errorResponses(400, 401, 403, 404, 422) },
        },
        put: {
          operationId: 'setKey',
          summary: 'Set a key (compare-and-set with If-Match)',
          security: WRITE,
          parameters: [ifMatch],
          requestBody: jsonBody({
            type: 'object',
            required: ['value'],
            properties: { value: anyJson },
            additionalProperties: false,
          }),
          responses: { '200': ok(ref('WriteResult')), ...errorResponses(400, 401, 403, 412, 413, 415, 422) },
        },
        delete: {
          operationId: 'deleteKey',
          summary: 'Delete a key from the write store',
          security: WRITE,
          parameters: [ifMatch],
          responses: { '200': ok(ref('WriteResult')), ...errorResponses(400, 401, 403, 412) },
        },
      },
      '/keys/{key}/revert': {
        parameters: [keyParam],
        post: {
          operationId: 'revertKey',
          summary: 'Set a key back to its value at a history revision',
          security: WRITE,
          parameters: [ifMatch],
          requestBody: jsonBody({
            type: 'object',
            required: ['revision'],
            properties: { revision: { type: 'integer', minimum: 1 } },
            additionalProperties: false,
          }),
          responses: { '200': ok(ref('WriteResult')), ...errorResponses(400, 401, 403, 404, 412, 415, 422) },
        },
      },
      '/explain/{key}': {
        parameters: [keyParam],
        get: {
          operationId: 'explainKey',
          summary: "Every layer's candidate, the winner and why",
          responses: { '200': ok({ type: 'object' }), ...errorResponses(400, 401, 403) },
        },
      },
      '/history': {
        get: {
          operationId: 'history',
          summary: 'Recorded changes, newest first',
          parameters: [
            query('key', 'Only this key (or, with prefix=1, keys under it)'),
            query('prefix', '1: key is a prefix'),
            query('since', 'Revisions after this one', { type: 'integer', minimum: 0 }),
            query('until', 'Revisions up to this one', { type: 'integer', minimum: 0 }),
            query('after', 'Changes after this ISO time', { type: 'string', format: 'date-time' }),
            query('before', 'Changes at or before this ISO time', { type: 'string', format: 'date-time' }),
            query('limit', 'At most this many (default 100, max 10000)', {
              type: 'integer',
              minimum: 1,
              maximum: 10000,
            }),
          ],
          responses: {
            '200': ok({ type: 'object', properties: { entries: { type: 'array', items: ref('Change') } } }),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      '/undo': {
        post: {
          operationId: 'undo',
          summary: 'Revert a revision (the newest by default) as a new change',
          security: WRITE,
          requestBody: jsonBody(
            {
              type: 'object',
              properties: { revision: { type: 'integer', minimum: 1 }, force: { type: 'boolean' } },
              additionalProperties: false,
            },
            false,
          ),
          responses: {
            '200': ok({
              type: 'object',
              properties: { storeRevision: { type: 'integer' }, changes: { type: 'array', items: ref('Change') } },
            }),
            ...errorResponses(400, 401, 403, 404, 409, 412, 415),
          },
        },
      },
      '/schema': {
        get: {
          operationId: 'schema',
          summary: "The store's JSON Schema document",
          responses: {
            '200': ok({ type: 'object', properties: { schema: { type: 'object', nullable: true } } }),
            ...errorResponses(401, 403),
          },
        },
      },
      '/snapshots': {
        get: {
          operationId: 'listSnapshots',
          summary: 'Snapshots, newest first',
          responses: {
            '200': ok({
              type: 'object',
              properties: {
                snapshots: { type: 'array', items: ref('Snapshot') },
                problems: { type: 'array', items: { type: 'object' } },
              },
            }),
            ...errorResponses(401, 403),
          },
        },
        post: {
          operationId: 'createSnapshot',
          summary: 'Take a snapshot',
          security: WRITE,
          requestBody: jsonBody(
            { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: false },
            false,
          ),
          responses: { '201': ok(ref('Snapshot'), 'Created'), ...errorResponses(400, 401, 403, 412, 415) },
        },
      },
      '/snapshots/{name}': {
        parameters: [nameParam],
        get: {
          operationId: 'readSnapshot',
          summary: "A snapshot's content",
          responses: { '200': ok({ type: 'object' }), ...errorResponses(400, 401, 403, 404) },
        },
        delete: {
          operationId: 'deleteSnapshot',
          summary: 'Delete a snapshot',
          security: WRITE,
          responses: {
            '200': ok({ type: 'object', properties: { deleted: { type: 'string' } } }),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      '/snapshots/{name}/diff': {
        parameters: [nameParam],
        get: {
          operationId: 'diffSnapshot',
          summary: 'What changed from the snapshot to another one or the live store',
          parameters: [query('against', 'current (default) or another snapshot name')],
          responses: {
            '200': ok({
              type: 'object',
              properties: {
                from: { type: 'object' },
                to: { type: 'object' },
                changes: { type: 'array', items: { type: 'object' } },
              },
            }),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      '/snapshots/{name}/restore': {
        parameters: [nameParam],
        post: {
          operationId: 'restoreSnapshot',
          summary: 'Restore the store to a snapshot (an automatic snapshot is taken first)',
          security: WRITE,
          requestBody: jsonBody({ type: 'object', additionalProperties: false }, false),
          responses: {
            '200': ok({
              type: 'object',
              properties: {
                storeRevision: { type: 'integer' },
                changes: { type: 'integer' },
                autoSnapshot: { type: 'string' },
              },
            }),
            ...errorResponses(400, 401, 403, 404, 415),
          },
        },
      },
      '/export': {
        get: {
          operationId: 'export',
          summary: 'The export document of the write store',
          responses: { '200': ok({ type: 'object' }), ...errorResponses(401, 403) },
        },
      },
      '/import': {
        post: {
          operationId: 'import',
          summary: 'Merge an export document or a flat {key: value} object',
          security: WRITE,
          parameters: [query('replace', '1: delete keys absent from the document')],
          requestBody: jsonBody({ type: 'object' }),
          responses: {
            '200': ok({
              type: 'object',
              properties: { storeRevision: { type: 'integer' }, changes: { type: 'integer' } },
            }),
            ...errorResponses(400, 401, 403, 413, 415, 422),
          },
        },
      },
      '/events': {
        get: {
          operationId: 'events',
          summary: 'Server-Sent Events: every change after since / Last-Event-ID, then live',
          parameters: [
            query('since', 'A revision or event id (41 or 41:2)'),
            query(
              'prefix',
              'Only the changes of keys under this prefix (display: display and display.*, not displayx; schema changes only without it)',
            ),
            { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: 'An event stream: hello, status, change and snapshots events',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...errorResponses(400, 401, 403),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          responses: { '200': ok({ type: 'object' }), ...errorResponses(401, 403) },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token from psmc token create, or the login token printed by psmc serve',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'psmc_session_<port>',
          description: 'The browser session made by opening /?token=<token>',
        },
      },
      responses: Object.fromEntries(
        [400, 401, 403, 404, 409, 412, 413, 415, 422].map((code) => [
          `E${code}`,
          { description: `Error (${code})`, content: { 'application/json': { schema: ref('Error') } } },
        ]),
      ),
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message', 'hint'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                hint: { type: 'string' },
                details: { type: 'object' },
              },
            },
            current: { type: 'object', description: 'On 412: the stored value, revision, source and time' },
          },
        },
        Entry: {
          type: 'object',
          required: ['key', 'value', 'layer', 'revision', 'source', 'time'],
          properties: {
            key: { type: 'string' },
            value: anyJson,
            layer: { type: 'string', enum: ['override', 'env', 'project', 'user', 'default'] },
            revision: { type: 'integer' },
            source: { type: 'string', nullable: true },
            time: { type: 'string', nullable: true },
            env: { type: 'object', properties: { var: { type: 'string' }, value: anyJson } },
            schema: { type: 'object' },
            layers: { type: 'array', items: { type: 'object' } },
          },
        },
        Change: {
          type: 'object',
          required: ['revision', 'seq', 'key', 'op', 'source', 'time', 'at'],
          properties: {
            revision: { type: 'integer' },
            seq: { type: 'integer' },
            key: { type: 'string' },
            op: { type: 'string', enum: ['set', 'delete', 'schema', 'conflict'] },
            value: anyJson,
            previous: anyJson,
            source: { type: 'string' },
            time: { type: 'string' },
            at: { type: 'string' },
            note: { type: 'string' },
          },
        },
        WriteResult: {
          type: 'object',
          properties: {
            key: { type: 'string' },
            revision: { type: 'integer' },
            storeRevision: { type: 'integer' },
            changed: { type: 'boolean' },
          },
        },
        Snapshot: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            created: { type: 'string' },
            revision: { type: 'integer' },
            keys: { type: 'integer' },
            reason: { type: 'string' },
            auto: { type: 'boolean' },
            source: { type: 'string' },
            bytes: { type: 'integer' },
          },
        },
        Status: {
          type: 'object',
          required: ['ok', 'version', 'store', 'revision', 'database', 'mirror', 'conflicts', 'watchers', 'imports'],
          properties: {
            ok: { type: 'boolean' },
            version: { type: 'string' },
            store: { type: 'object' },
            revision: { type: 'integer' },
            database: { type: 'object' },
            mirror: { type: 'object', nullable: true },
            conflicts: { type: 'integer' },
            watchers: { type: 'integer' },
            imports: { type: 'object' },
          },
        },
      },
    },
  };
}
