import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, isSeq, type Node, type Pair, parse, parseDocument, type YAMLMap } from 'yaml';
import {
  type Autoscaling,
  environmentNames,
  parseSpec,
  resolve,
  type Spec,
  SpecError,
} from '../../knative/spec.ts';

/**
 * Writes a recommendation into one service's `autoscaling` entry of knative/autoscaling.yaml.
 *
 * The yaml package's Document API finds the nodes and their source ranges; the text is then edited in
 * place, only there: a value is replaced within its own range, a missing key becomes one new line after the
 * map's last entry (or `, key: value` in a flow map). Re-stringifying the whole Document would keep the
 * comments but reformat lines nobody touched (long descriptions folded at 80 columns, `[a, b]` padded to
 * `[ a, b ]`), which is noise in a file operators review by diff. The result is checked three ways before
 * anyone writes it: it parses to exactly the old data plus the changes, and it passes the spec schema and
 * Knative's cross-field rules (knative/spec.ts parseSpec).
 */

export type AutoscalingChanges = Partial<Autoscaling>;

export interface KeyChange {
  key: keyof Autoscaling;
  /** The value the service resolved to before (its own, or the default). */
  from: Autoscaling[keyof Autoscaling];
  to: Autoscaling[keyof Autoscaling];
  how: 'updated' | 'added';
}

export interface SpecEdit {
  text: string;
  changed: KeyChange[];
  /** Keys whose resolved value already equals the recommendation. */
  unchanged: (keyof Autoscaling)[];
  /** Environment overrides that still win over the written value, e.g. "staging: maxScale 10". */
  overridden: string[];
}

interface TextEdit {
  at: number;
  end: number;
  insert: string;
}

export function editAutoscaling(text: string, service: string, changes: AutoscalingChanges): SpecEdit {
  const before = parseSpec(text);
  if (!before.services[service]) {
    throw new Error(`knative/autoscaling.yaml has no service ${service}`);
  }
  const current = resolve(before, service).autoscaling;
  const wanted = (Object.entries(changes) as [keyof Autoscaling, Autoscaling[keyof Autoscaling]][]).filter(
    ([, value]) => value !== undefined,
  );
  const changed: KeyChange[] = [];
  const unchanged: (keyof Autoscaling)[] = [];

  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`cannot parse: ${doc.errors[0]!.message}`);
  const serviceNode = doc.getIn(['services', service], true);
  if (!isMap(serviceNode)) throw new Error(`services.${service} is not a map`);
  const autoscalingNode = serviceNode.get('autoscaling', true) as Node | undefined;
  if (autoscalingNode !== undefined && autoscalingNode !== null && !isMap(autoscalingNode)) {
    throw new Error(`services.${service}.autoscaling is not a map`);
  }

  const edits: TextEdit[] = [];
  const added: [string, string][] = [];
  for (const [key, value] of wanted) {
    const own = autoscalingNode ? findPair(autoscalingNode, key) : undefined;
    if (current[key] === value && (own === undefined || scalarValue(own) === value)) {
      unchanged.push(key);
      continue;
    }
    const rendered = render(value);
    if (own) {
      const node = own.value;
      if (!isScalar(node) || !node.range)
        throw new Error(`services.${service}.autoscaling.${key} is not a scalar`);
      edits.push({ at: node.range[0], end: node.range[1], insert: rendered });
      changed.push({ key, from: current[key], to: value, how: 'updated' });
    } else {
      added.push([key, rendered]);
      changed.push({ key, from: current[key], to: value, how: 'added' });
    }
  }
  if (added.length > 0) {
    if (autoscalingNode) edits.push(appendToMap(text, autoscalingNode as YAMLMap, added));
    else edits.push(appendToMap(text, serviceNode, [['autoscaling', ''], ...added], true));
  }

  let out = text;
  for (const edit of edits.sort((a, b) => b.at - a.at)) {
    out = out.slice(0, edit.at) + edit.insert + out.slice(edit.end);
  }

  // The edit is exactly the changes: same data otherwise, and the file still passes the schema.
  const expected = parse(text) as { services: Record<string, { autoscaling?: Record<string, unknown> }> };
  const entry = expected.services[service]!;
  entry.autoscaling = { ...(entry.autoscaling ?? {}) };
  for (const c of changed) entry.autoscaling[c.key] = c.to;
  if (!isDeepStrictEqual(parse(out), expected)) {
    throw new Error('internal error: the edited file does not parse to the intended values; nothing written');
  }
  const after = parseSpec(out);
  return {
    text: out,
    changed,
    unchanged,
    overridden: overrides(
      after,
      service,
      wanted.map(([k]) => k),
    ),
  };
}

/** Validates a whole file against knative/spec.ts; returns the problems (empty when valid). */
export function specProblems(text: string): string[] {
  try {
    parseSpec(text);
    return [];
  } catch (error) {
    if (error instanceof SpecError) return error.problems;
    return [error instanceof Error ? error.message : String(error)];
  }
}

/** The highest minScale or initialScale any environment resolves to for the service: maxScale's floor. */
export function scaleFloor(spec: Spec, service: string): number {
  return Math.max(
    ...[undefined, ...environmentNames].map((env) => {
      const a = resolve(spec, service, env).autoscaling;
      return Math.max(a.minScale, a.initialScale);
    }),
  );
}

function overrides(spec: Spec, service: string, keys: (keyof Autoscaling)[]): string[] {
  const out: string[] = [];
  for (const env of environmentNames) {
    const e = spec.environments[env];
    for (const key of keys) {
      const own = e?.services[service]?.autoscaling?.[key];
      const all = e?.all?.autoscaling?.[key];
      if (own !== undefined) out.push(`${env}: ${key} ${own} (environments.${env}.services.${service})`);
      else if (all !== undefined) out.push(`${env}: ${key} ${all} (environments.${env}.all)`);
    }
  }
  return out;
}

function findPair(map: Node, key: string): Pair<unknown, Node> | undefined {
  if (!isMap(map)) return undefined;
  return (map.items as Pair<unknown, Node>[]).find((p) => isScalar(p.key) && p.key.value === key);
}

function scalarValue(pair: Pair<unknown, Node>): unknown {
  return isScalar(pair.value) ? pair.value.value : undefined;
}

function render(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string' && /^[\w.-]+$/.test(value) && !/^\d/.test(value)) return value;
  return JSON.stringify(value);
}

/**
 * New `key: value` entries at the end of a map. A block map gets lines at its entries' indentation after
 * the line where its last entry ends; a flow map gets `, key: value` before its closing brace. With
 * `nested`, the first entry is a new block map key whose following entries are indented under it.
 */
function appendToMap(text: string, map: YAMLMap, entries: [string, string][], nested = false): TextEdit {
  const items = map.items as Pair<Node, Node>[];
  if (map.flow) {
    if (nested) throw new Error('cannot add a nested block to a flow map');
    const close = text.lastIndexOf('}', map.range![1]);
    let at = close;
    while (at > 0 && /\s/.test(text[at - 1]!)) at--;
    const body = entries.map(([k, v]) => `${k}: ${v}`).join(', ');
    return { at, end: at, insert: items.length > 0 ? `, ${body}` : body };
  }
  const first = items[0];
  const last = items[items.length - 1];
  if (!first?.key?.range || !last) throw new Error('cannot append to an empty block map');
  const indent = first.key.range[0] - lineStart(text, first.key.range[0]);
  const lastEnd = endOfEntry(last);
  const at = lineEnd(text, lastEnd - 1);
  const pad = ' '.repeat(indent);
  const lines = entries.map(([k, v], i) =>
    nested && i === 0 ? `${pad}${k}:` : `${pad}${nested ? '  ' : ''}${k}: ${v}`,
  );
  return { at, end: at, insert: `\n${lines.join('\n')}` };
}

function endOfEntry(pair: Pair<Node, Node>): number {
  const value = pair.value;
  if (value && (isMap(value) || isSeq(value)) && !value.flow) {
    const items = value.items as Array<Node | Pair<Node, Node>>;
    const lastItem = items[items.length - 1];
    if (lastItem && 'key' in lastItem && 'value' in lastItem) return endOfEntry(lastItem as Pair<Node, Node>);
    if (lastItem && 'range' in lastItem && lastItem.range) return lastItem.range[1];
  }
  const range = value?.range ?? pair.key?.range;
  if (!range) throw new Error('a map entry without a source range');
  return range[1];
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl;
}

/** A unified diff of two texts by lines (LCS), with `context` lines around each change. */
export function unifiedDiff(before: string, after: string, name: string, context = 3): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  type Op = { kind: ' ' | '-' | '+'; line: string; ai: number; bi: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ kind: ' ', line: a[i]!, ai: i++, bi: j++ });
    else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!))
      ops.push({ kind: '-', line: a[i]!, ai: i++, bi: j });
    else ops.push({ kind: '+', line: b[j]!, ai: i, bi: j++ });
  }
  const changedAt = ops.flatMap((op, k) => (op.kind === ' ' ? [] : [k]));
  if (changedAt.length === 0) return '';
  const shown = name.replace(/^\//, '');
  const out = [`--- a/${shown}`, `+++ b/${shown}`];
  let k = 0;
  while (k < changedAt.length) {
    const from = Math.max(0, changedAt[k]! - context);
    let to = Math.min(ops.length - 1, changedAt[k]! + context);
    while (k + 1 < changedAt.length && changedAt[k + 1]! - context <= to + 1) {
      k++;
      to = Math.min(ops.length - 1, changedAt[k]! + context);
    }
    const hunk = ops.slice(from, to + 1);
    const aCount = hunk.filter((op) => op.kind !== '+').length;
    const bCount = hunk.filter((op) => op.kind !== '-').length;
    out.push(`@@ -${hunk[0]!.ai + 1},${aCount} +${hunk[0]!.bi + 1},${bCount} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.line}`);
    k++;
  }
  return `${out.join('\n')}\n`;
}
