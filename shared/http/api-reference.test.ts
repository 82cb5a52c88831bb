import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer, type TestServer } from '../../tests/support/embedded-server.ts';
import { errorCode, statusForCode } from '../errors.ts';
import { topics } from '../outbox/events.ts';

/**
 * docs/api.md is written by hand for client developers; this keeps it in step with what the all-in-one
 * server generates at /openapi.json: the same operations, the same error statuses per operation, the same
 * error codes with their statuses, the same headers and the same event topics, in both directions.
 */

interface Operation {
  parameters?: { in: string; name: string }[];
  responses: Record<string, { description: string }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: { Error: { properties: { error: { properties: { code: { enum: string[] } } } } } } };
}

const reference = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
const endpointHeading = /^### `([A-Z]+) (\/\S*)`$/gm;

/** Each `### \`METHOD /path\`` section of the reference, up to the next heading. */
function sections(): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of reference.matchAll(endpointHeading)) {
    const body = reference.slice(match.index + match[0].length);
    const end = body.search(/^#{2,3} /m);
    found.set(`${match[1]} ${match[2]}`, end === -1 ? body : body.slice(0, end));
  }
  return found;
}

/**
 * `status CODE` pairs: in the reference, the `Errors:` paragraph of a section (`` `409 SEAT_TAKEN` ``; the
 * prose around it may mention codes freely); in OpenAPI, the codes each error status's description names.
 */
function pairsIn(section: string): string[] {
  const errors = section.split(/\n\s*\n/).find((paragraph) => paragraph.startsWith('Errors: ')) ?? '';
  return [...errors.matchAll(/`(\d{3}) ([A-Z_]+)`/g)].map(([, status, code]) => `${status} ${code}`).sort();
}

function pairsOf(operation: Operation, codes: readonly string[]): string[] {
  return Object.entries(operation.responses)
    .filter(([status]) => Number(status) >= 400)
    .flatMap(([status, { description }]) =>
      (description.match(/[A-Z][A-Z_]+/g) ?? [])
        .filter((word) => codes.includes(word))
        .map((code) => `${status} ${code}`),
    )
    .sort();
}

describe('docs/api.md against the generated OpenAPI document', () => {
  let server: TestServer;
  let doc: OpenApiDocument;
  beforeAll(async () => {
    server = await startTestServer();
    doc = (await call(server, 'GET', '/openapi.json')).body as unknown as OpenApiDocument;
  });
  afterAll(() => server.close());

  const operationsOf = (d: OpenApiDocument) =>
    Object.entries(d.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        key: `${method.toUpperCase()} ${path}`,
        operation,
      })),
    );

  it('documents every operation, and only those', () => {
    const generated = operationsOf(doc)
      .map((o) => o.key)
      .sort();
    expect(generated.length).toBeGreaterThan(10);
    expect([...sections().keys()].sort()).toEqual(generated);
  });

  it("lists each operation's error statuses and codes as the document declares them", () => {
    const codes = doc.components.schemas.Error.properties.error.properties.code.enum;
    const documented = sections();
    const mismatches = operationsOf(doc).flatMap(({ key, operation }) => {
      const generated = pairsOf(operation, codes);
      const written = pairsIn(documented.get(key) ?? '');
      return JSON.stringify(generated) === JSON.stringify(written) ? [] : [{ key, generated, written }];
    });
    expect(mismatches).toEqual([]);
  });

  it('has one row per error code with its status, for every code the API can answer', () => {
    const rows = [...reference.matchAll(/^\| `([A-Z_]+)` +\| (\d{3}) +\|/gm)].map(
      ([, code, status]) => `${code} ${status}`,
    );
    const generated = doc.components.schemas.Error.properties.error.properties.code.enum;
    expect(generated).toEqual(errorCode.options);
    expect(rows.sort()).toEqual(generated.map((code) => `${code} ${statusForCode(code as never)}`).sort());
  });

  it('names every request header the operations declare', () => {
    const headers = new Set(
      operationsOf(doc).flatMap(({ operation }) =>
        (operation.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name.toLowerCase()),
      ),
    );
    expect(headers.size).toBeGreaterThan(0);
    const table = [...reference.matchAll(/^\| `([A-Za-z-]+)` +\| (request|both) +\|/gm)].map(([, name]) =>
      name!.toLowerCase(),
    );
    expect([...headers].filter((name) => !table.includes(name))).toEqual([]);
  });

  it('lists every event topic, and only those', () => {
    const rows = [...reference.matchAll(/^\| `([a-z]+\.[a-z]+)` +\|/gm)].map(([, topic]) => topic).sort();
    expect(rows).toEqual(Object.values(topics).sort());
  });
});
