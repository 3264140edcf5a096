import { AssertionError } from 'node:assert';
import { readFileSync } from 'node:fs';
import Ajv2020Module, { type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { OPENAPI_FILE } from '../../src/paths.js';

/**
 * The contract as a test oracle. openapi/openapi.yaml is loaded once and added to ajv as one schema under
 * SPEC_ID, so any schema in it is compiled by reference (`<SPEC_ID>#/paths/...`) and its `$ref`s resolve
 * into components. OpenAPI 3.1 schemas are JSON Schema 2020-12, hence ajv/dist/2020.
 */

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface MediaTypeObject {
  schema?: unknown;
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
}
export interface ResponseObject {
  $ref?: string;
  description?: string;
  content?: Record<string, MediaTypeObject>;
}
export interface OperationObject {
  operationId?: string;
  tags?: string[];
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: { $ref?: string; in?: string; name?: string }[];
  responses?: Record<string, ResponseObject>;
}
export type PathItemObject = Partial<Record<(typeof HTTP_METHODS)[number], OperationObject>>;
export interface OpenApiDocument {
  openapi: string;
  tags?: { name: string; description?: string }[];
  paths: Record<string, PathItemObject>;
  components: {
    schemas: Record<string, Record<string, unknown>>;
    responses: Record<string, ResponseObject>;
    parameters?: Record<string, { in?: string; name?: string }>;
  };
}

const SPEC_ID = 'https://parley.invalid/openapi.yaml';

export const spec = parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;

// ajv's CommonJS modules: under NodeNext the default import is module.exports, whose `.default` is the export.
const ajv = new Ajv2020Module.default({
  allErrors: true,
  strict: true,
  strictTypes: false,
  strictRequired: false,
});
addFormatsModule.default(ajv);
// OpenAPI's own schema keywords, and the document's top-level fields: ajv compiles the root document once
// (as a schema that checks nothing) before resolving a pointer into it.
ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
ajv.addVocabulary([
  'openapi',
  'info',
  'jsonSchemaDialect',
  'servers',
  'paths',
  'webhooks',
  'components',
  'security',
  'tags',
]);
ajv.addSchema(spec, SPEC_ID);

const validators = new Map<string, ValidateFunction>();

/** A JSON pointer ("#/components/schemas/Problem") from its unescaped segments. */
export function pointer(...segments: string[]): string {
  return '#/' + segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/** Validates `value` against the schema at `ptr` in the spec; undefined when it is valid, else ajv's errors. */
export function schemaErrors(ptr: string, value: unknown): string | undefined {
  let validate = validators.get(ptr);
  if (!validate) {
    // The fragment is percent-encoded: ajv decodes it before unescaping the JSON pointer.
    const fragment = ptr.slice(1).split('/').map(encodeURIComponent).join('/');
    validate = ajv.compile({ $ref: `${SPEC_ID}#${fragment}` });
    validators.set(ptr, validate);
  }
  return validate(value)
    ? undefined
    : ajv.errorsText(validate.errors, { dataVar: 'body', separator: '\n  ' });
}

/** Follows a local `$ref` (e.g. to components/responses); returns the object and its pointer. */
function deref<T extends { $ref?: string }>(obj: T, at: string): { value: T; at: string } {
  let value = obj;
  while (value.$ref) {
    at = value.$ref;
    let next: unknown = spec;
    for (const part of at.slice(2).split('/')) {
      next = (next as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    if (!next) throw new Error(`unresolvable $ref ${at}`);
    value = next as T;
  }
  return { value, at };
}

const isJson = (type: string) => type === 'application/json' || type.endsWith('+json');

function fail(message: string): never {
  throw new AssertionError({ message, stackStartFn: expectResponseMatchesSpec });
}

/**
 * Asserts that the spec documents `status` with `contentType` for the operation, and that `body` matches
 * the documented schema. `pathTemplate` is the spec's key (`/restapi/v1/chat/{streamid}`). A JSON body may
 * be given parsed or as text; a response without content (204, 304) must have an empty body and no type.
 *
 *   expectResponseMatchesSpec('GET', '/restapi/v1/chat/{streamid}', res.status, res.headers.get('content-type') ?? '', await res.json());
 */
export function expectResponseMatchesSpec(
  method: string,
  pathTemplate: string,
  status: number,
  contentType: string,
  body: unknown,
): void {
  const m = method.toLowerCase() as (typeof HTTP_METHODS)[number];
  const where = `${method.toUpperCase()} ${pathTemplate} → ${status}`;
  const operation = spec.paths[pathTemplate]?.[m];
  if (!operation) fail(`${method.toUpperCase()} ${pathTemplate} is not in openapi.yaml`);
  const responses = operation.responses ?? {};
  const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in responses);
  if (!key) fail(`${where} is not documented (documented: ${Object.keys(responses).join(', ')})`);
  const { value: response, at } = deref(responses[key]!, pointer('paths', pathTemplate, m, 'responses', key));

  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const content = response.content ?? {};
  if (Object.keys(content).length === 0) {
    const empty =
      body === undefined || body === null || body === '' || (body instanceof Uint8Array && body.length === 0);
    if (type || !empty)
      fail(
        `${where} is documented without a body, got ${type || 'untyped'} ${JSON.stringify(body)?.slice(0, 200)}`,
      );
    return;
  }
  const mediaKey =
    Object.keys(content).find((k) => k.toLowerCase() === type) ??
    Object.keys(content).find((k) => k === `${type.split('/')[0]}/*` || k === '*/*');
  if (!mediaKey)
    fail(
      `${where}: content type "${type}" is not documented (documented: ${Object.keys(content).join(', ')})`,
    );
  if (!content[mediaKey]!.schema) return;

  let value = body;
  if (value instanceof Uint8Array) {
    if (!type.startsWith('text/') && !isJson(type)) return; // binary: the documented type is all we can check
    value = Buffer.from(value).toString('utf8');
  }
  if (isJson(type) && typeof value === 'string') {
    const text = value;
    try {
      value = JSON.parse(text);
    } catch {
      fail(`${where}: the ${type} body is not JSON: ${text.slice(0, 200)}`);
    }
  }
  const errors = schemaErrors(`${at}/content/${mediaKey.replace(/\//g, '~1')}/schema`, value);
  if (errors)
    fail(
      `${where} (${type}) does not match openapi.yaml:\n  ${errors}\nbody: ${JSON.stringify(value)?.slice(0, 500)}`,
    );
}

/**
 * Asserts that one SSE event (its `event:` name, JSON `data:` and `id:` if any) matches the `SseEvent`
 * schema, and that a durable event's payload repeats its id.
 */
export function expectEventMatchesSpec(event: string, data: unknown, id?: string): void {
  const sse = { event, data, ...(id === undefined ? {} : { id }) };
  const errors = schemaErrors(pointer('components', 'schemas', 'SseEvent'), sse);
  if (errors)
    fail(
      `event ${event} does not match openapi.yaml:\n  ${errors}\nevent: ${JSON.stringify(sse).slice(0, 500)}`,
    );
  if (id !== undefined && (data as { id?: unknown })?.id !== id)
    fail(
      `event ${event}: id: ${id} but the payload's id is ${JSON.stringify((data as { id?: unknown })?.id)}`,
    );
}

/**
 * The spec path template a concrete request path falls under (`/restapi/v1/chat/ps_…/logoff` →
 * `/restapi/v1/chat/{streamid}/logoff`), preferring the most literal template when several match.
 */
export function templateFor(method: string, path: string): string | undefined {
  const m = method.toLowerCase() as (typeof HTTP_METHODS)[number];
  const candidates = Object.keys(spec.paths)
    .filter((t) => spec.paths[t]?.[m])
    .filter((t) => {
      const re = new RegExp(
        '^' +
          t
            .split(/\{[^}]+\}/)
            .map((s) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
            .join('[^/]+') +
          // the router takes a trailing slash too (ofchat clients post to `/ask/`)
          '/?$',
      );
      return re.test(path);
    });
  return candidates.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
}
