import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadSpec, resolve, SpecError, specPath } from '../../knative/spec.ts';
import { editAutoscaling, scaleFloor, specProblems, unifiedDiff } from './spec-write.ts';

const dir = mkdtempSync(join(tmpdir(), 'tune-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A temp copy of the real knative/autoscaling.yaml. */
function copyOfRealSpec(): { file: string; text: string } {
  const file = join(dir, `autoscaling-${Math.random().toString(36).slice(2)}.yaml`);
  copyFileSync(specPath, file);
  return { file, text: readFileSync(file, 'utf8') };
}

function changedLines(before: string, after: string) {
  const a = before.split('\n');
  const b = after.split('\n');
  return {
    removed: a.filter((line) => !b.includes(line)),
    added: b.filter((line) => !a.includes(line)),
  };
}

const comments = (text: string) => text.split('\n').filter((line) => line.trimStart().startsWith('#'));

describe('editAutoscaling on a copy of knative/autoscaling.yaml', () => {
  it("changes only the function's keys, keeps every comment, and passes the spec schema", () => {
    const { file, text } = copyOfRealSpec();
    const before = loadSpec(file);
    const old = resolve(before, 'hold-seat').autoscaling;
    const want = {
      containerConcurrency: old.containerConcurrency + 3,
      target: old.target + 1,
      maxScale: old.maxScale + 5,
    };
    const edit = editAutoscaling(text, 'hold-seat', {
      ...want,
      targetUtilizationPercentage: old.targetUtilizationPercentage,
    });
    writeFileSync(file, edit.text);

    // The schema (and Knative's cross-field rules) accept the written file.
    const after = loadSpec(file);
    expect(resolve(after, 'hold-seat').autoscaling).toEqual({ ...old, ...want });
    // Every other service and environment resolves as before.
    for (const name of Object.keys(before.services).filter((n) => n !== 'hold-seat')) {
      expect(resolve(after, name)).toEqual(resolve(before, name));
    }
    expect(after.environments).toEqual(before.environments);
    // Only the three value lines changed; comments and everything else are byte for byte the same.
    const oldLines = text.split('\n');
    const newLines = edit.text.split('\n');
    expect(newLines).toHaveLength(oldLines.length);
    const differing = oldLines.flatMap((line, i) =>
      line === newLines[i] ? [] : [[line.trim(), newLines[i]!.trim()]],
    );
    expect(differing.sort()).toEqual([
      [
        `containerConcurrency: ${old.containerConcurrency}`,
        `containerConcurrency: ${want.containerConcurrency}`,
      ],
      [`maxScale: ${old.maxScale}`, `maxScale: ${want.maxScale}`],
      [`target: ${old.target}`, `target: ${want.target}`],
    ]);
    expect(comments(edit.text)).toEqual(comments(text));
    expect(edit.changed.map((c) => [c.key, c.how])).toEqual([
      ['containerConcurrency', 'updated'],
      ['target', 'updated'],
      ['maxScale', 'updated'],
    ]);
    expect(edit.unchanged).toEqual(['targetUtilizationPercentage']);
  });

  it('adds a key the function does not set yet, inside its own autoscaling block', () => {
    const { text } = copyOfRealSpec();
    const before = parse(text) as { services: Record<string, { autoscaling?: Record<string, unknown> }> };
    expect(before.services['list-seats']!.autoscaling!.containerConcurrency).toBeUndefined();
    const edit = editAutoscaling(text, 'list-seats', { containerConcurrency: 64 });
    const after = parse(edit.text) as typeof before;
    expect(after.services['list-seats']!.autoscaling).toEqual({
      ...before.services['list-seats']!.autoscaling,
      containerConcurrency: 64,
    });
    const { removed, added } = changedLines(text, edit.text);
    expect(removed).toEqual([]);
    expect(added).toEqual(['      containerConcurrency: 64']);
    expect(specProblems(edit.text)).toEqual([]);
    expect(comments(edit.text)).toEqual(comments(text));
  });

  it('refuses a result the spec rejects, and writes nothing', () => {
    const { text } = copyOfRealSpec();
    const spec = loadSpec(specPath);
    const floor = scaleFloor(spec, 'enter-queue');
    expect(floor).toBeGreaterThan(1);
    expect(() => editAutoscaling(text, 'enter-queue', { maxScale: floor - 1 })).toThrow(SpecError);
    expect(() => editAutoscaling(text, 'hold-seat', { containerConcurrency: 2000 })).toThrow(SpecError);
  });

  it('reports environment overrides that still win, and unknown services', () => {
    const { text } = copyOfRealSpec();
    const edit = editAutoscaling(text, 'hold-seat', { maxScale: 33 });
    const spec = loadSpec(specPath);
    if (spec.environments.staging?.services['hold-seat']?.autoscaling?.maxScale !== undefined) {
      expect(edit.overridden.join('\n')).toContain('staging: maxScale');
    }
    expect(() => editAutoscaling(text, 'no-such-function', { maxScale: 3 })).toThrow(
      'no service no-such-function',
    );
  });

  it('changes nothing when the values are already there', () => {
    const { text } = copyOfRealSpec();
    const current = resolve(loadSpec(specPath), 'pay').autoscaling;
    const edit = editAutoscaling(text, 'pay', { maxScale: current.maxScale, target: current.target });
    expect(edit.text).toBe(text);
    expect(edit.changed).toEqual([]);
    expect(unifiedDiff(text, edit.text, 'x')).toBe('');
  });
});

/** A minimal valid spec with the shapes the real file does not have. */
const fixture = `# header comment
defaults:
  autoscaling:
    class: kpa
    metric: concurrency
    target: 50
    targetUtilizationPercentage: 70
    minScale: 0
    maxScale: 10
    initialScale: 1
    scaleToZeroPodRetentionPeriod: 0s
    containerConcurrency: 0
  resources:
    requests: { cpu: 250m, memory: 192Mi }
    limits: { cpu: "1", memory: 384Mi }
  timeoutSeconds: 30
  dbPoolSize: 5

services:
  flow-fn:
    kind: function
    description: A function whose autoscaling is a flow map, and a description long enough that a re-stringified document would fold it at eighty columns.
    autoscaling: { target: 5, maxScale: 4 } # keep me
  bare-fn:
    kind: function
    description: No autoscaling entry at all.
    resources:
      requests: { cpu: 100m }
    # a comment that belongs to the next service
  tail-fn:
    kind: function
    description: Last.

environments:
  dev: &env
    namespace: concert-dev
    registry: r.example/concert
    imageTag: main
    kafkaBootstrapServers: [k:9092]
    region: ap-northeast-2
    config: { NODE_ENV: production }
    all: {}
    services: {}
  staging: *env
  prod:
    namespace: concert
    registry: r.example/concert
    imageTag: main
    kafkaBootstrapServers: [k:9092]
    region: ap-northeast-2
    config: { NODE_ENV: production }
    all: {}
    services:
      flow-fn: { autoscaling: { minScale: 2 } }
`;

describe('editAutoscaling on other shapes', () => {
  it('edits and extends a flow map in place', () => {
    expect(specProblems(fixture)).toEqual([]);
    const edit = editAutoscaling(fixture, 'flow-fn', { target: 7, containerConcurrency: 9 });
    expect(edit.text).toContain(
      '    autoscaling: { target: 7, maxScale: 4, containerConcurrency: 9 } # keep me\n',
    );
    expect(changedLines(fixture, edit.text).added).toHaveLength(1);
    expect(edit.overridden).toEqual([]);
  });

  it('adds an autoscaling block to a service without one, before the next service’s comment', () => {
    const edit = editAutoscaling(fixture, 'bare-fn', { containerConcurrency: 8, target: 8, maxScale: 6 });
    expect(edit.text).toContain(
      [
        '      requests: { cpu: 100m }',
        '    autoscaling:',
        '      containerConcurrency: 8',
        '      target: 8',
        '      maxScale: 6',
        '    # a comment that belongs to the next service',
      ].join('\n'),
    );
    expect(specProblems(edit.text)).toEqual([]);
  });

  it('adds to the last service of the map, and refuses maxScale under an environment’s minScale', () => {
    const edit = editAutoscaling(fixture, 'tail-fn', { maxScale: 3 });
    expect(edit.text).toContain(
      '    description: Last.\n    autoscaling:\n      maxScale: 3\n\nenvironments:\n',
    );
    expect(parse(edit.text).services['tail-fn'].autoscaling).toEqual({ maxScale: 3 });
    expect(() => editAutoscaling(fixture, 'flow-fn', { maxScale: 1 })).toThrow('maxScale 1 < minScale 2');
  });
});

describe('unifiedDiff', () => {
  it('prints hunks with context', () => {
    const a = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].join('\n');
    const b = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h', 'i', 'j'].join('\n');
    expect(unifiedDiff(a, b, 'f.yaml', 1)).toBe(
      [
        '--- a/f.yaml',
        '+++ b/f.yaml',
        '@@ -4,3 +4,3 @@',
        ' d',
        '-e',
        '+E',
        ' f',
        '@@ -9,1 +9,2 @@',
        ' i',
        '+j',
        '',
      ].join('\n'),
    );
  });
});
