/**
 * Schemas for core Kubernetes kinds from a release's OpenAPI v3 document (`api/openapi-spec/v3/*.json`),
 * shaped like a CRD's `openAPIV3Schema` so knative/validate.ts can close them the same way:
 * references inlined, a free-form `type: object` (RawExtension, FieldsV1) marked as open, and the
 * documentation-only `x-kubernetes-*` annotations the validator does not know dropped.
 */

type Schema = Record<string, unknown>;

interface OpenApiDocument {
  components?: { schemas?: Record<string, Schema> };
}

interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

const refPrefix = '#/components/schemas/';

/** Annotations kept because the validator reads them; every other `x-kubernetes-*` key is dropped. */
const kept = new Set(['x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string']);

/** `group/version/Kind` as manifests spell it (`v1/Secret` for the core group). */
function keyOf(gvk: GroupVersionKind): string {
  return `${gvk.group ? `${gvk.group}/` : ''}${gvk.version}/${gvk.kind}`;
}

/** The schema of each wanted kind in `doc`, keyed `group/version/Kind`; kinds the document lacks are absent. */
export function coreKindSchemas(doc: OpenApiDocument, kinds: string[]): Record<string, Schema> {
  const components = doc.components?.schemas ?? {};
  const found: Record<string, Schema> = {};
  for (const [name, schema] of Object.entries(components)) {
    const gvks = (schema['x-kubernetes-group-version-kind'] as GroupVersionKind[] | undefined) ?? [];
    for (const gvk of gvks) {
      const key = keyOf(gvk);
      if (kinds.includes(key)) found[key] = inline(components, name);
    }
  }
  return found;
}

function inline(components: Record<string, Schema>, root: string): Schema {
  const resolve = (node: unknown, stack: string[]): unknown => {
    if (Array.isArray(node)) return node.map((n) => resolve(n, stack));
    if (!node || typeof node !== 'object') return node;
    let src = node as Schema;
    const ref = typeof src.$ref === 'string' ? src.$ref : undefined;
    if (ref) {
      const name = ref.slice(refPrefix.length);
      const target = components[name];
      if (!ref.startsWith(refPrefix) || !target) throw new Error(`unresolved reference ${ref}`);
      // A recursive type (none among the kinds checked today) is left open rather than unrolled forever.
      if (stack.includes(name)) return {};
      const { $ref: _, ...siblings } = src;
      return resolve({ ...target, ...siblings }, [...stack, name]);
    }
    // OpenAPI wraps a reference with a default or description in a one-element allOf; unwrap it.
    const allOf = src.allOf;
    if (Array.isArray(allOf) && allOf.length === 1) {
      const { allOf: _, ...rest } = src;
      const inner = resolve(allOf[0], stack) as Schema;
      src = { ...inner, ...rest };
    }
    const out: Schema = {};
    for (const [key, value] of Object.entries(src)) {
      if (key.startsWith('x-kubernetes-') && !kept.has(key)) continue;
      if (key === 'description') continue;
      out[key] =
        key === 'properties' ? mapValues(value as Schema, (v) => resolve(v, stack)) : resolve(value, stack);
    }
    const freeForm =
      out.type === 'object' && out.properties === undefined && out.additionalProperties === undefined;
    if (freeForm) out['x-kubernetes-preserve-unknown-fields'] = true;
    return out;
  };
  return resolve({ $ref: `${refPrefix}${root}` }, []) as Schema;
}

function mapValues(record: Schema, fn: (value: unknown) => unknown): Schema {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}
