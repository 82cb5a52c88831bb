import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

/**
 * `npx tsx observability/prometheus/sync-rules.ts [--check]`: docker-compose's Prometheus loads plain rule
 * groups, the cluster loads the PrometheusRule; both come from rules.yaml. `--check` exits 1 when
 * rules.compose.yml is stale (the deploy tests run the same comparison).
 */
const dir = new URL('./', import.meta.url).pathname;
export const rulesPath = `${dir}rules.yaml`;
export const composeRulesPath = `${dir}rules.compose.yml`;

export function composeRules(text = readFileSync(rulesPath, 'utf8')): string {
  const rule = parse(text) as { spec: { groups: unknown[] } };
  return (
    '# GENERATED from rules.yaml by observability/prometheus/sync-rules.ts: edit rules.yaml, then run it.\n' +
    stringify({ groups: rule.spec.groups }, { lineWidth: 0 })
  );
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const wanted = composeRules();
  if (process.argv.includes('--check')) {
    if (readFileSync(composeRulesPath, 'utf8') !== wanted) {
      console.error('rules.compose.yml is stale: run npx tsx observability/prometheus/sync-rules.ts');
      process.exit(1);
    }
  } else writeFileSync(composeRulesPath, wanted);
}
