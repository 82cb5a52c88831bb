import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { crdCacheDir, crdSources } from './crd-sources.ts';
import { ensureGoModuleCrds } from './fetch-go-crds.ts';

/**
 * `npm run knative:crds [-- --out <dir>] [--force]`: downloads the pinned upstream CRD files that
 * knative/validate.ts checks manifests against. Files already there are kept, so a warm cache costs nothing;
 * each download must hold the CustomResourceDefinition it is named for before it replaces anything.
 */

const timeoutMs = 30_000;

async function download(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

function definedKinds(text: string): string[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as { kind?: string; spec?: Record<string, never> } | null)
    .filter((d) => d?.kind === 'CustomResourceDefinition')
    .flatMap((d) => {
      const spec = d?.spec as
        | { group: string; names: { kind: string }; versions: { name: string }[] }
        | undefined;
      return (spec?.versions ?? []).map((v) => `${spec?.group}/${v.name}/${spec?.names.kind}`);
    });
}

async function main(argv: string[]): Promise<void> {
  const outIndex = argv.indexOf('--out');
  const out = outIndex >= 0 ? argv[outIndex + 1] : crdCacheDir;
  if (!out) throw new Error('--out needs a folder');
  const force = argv.includes('--force');
  mkdirSync(out, { recursive: true });
  let failed = 0;
  for (const source of crdSources) {
    const target = join(out, source.file);
    // The URL beside each file: a cache restored after the pins moved is fetched again, not trusted.
    const stamp = `${target}.url`;
    const current = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : undefined;
    if (existsSync(target) && current === source.url && !force) {
      console.log(`kept       ${target}`);
      continue;
    }
    try {
      const text = await download(source.url);
      const kinds = definedKinds(text);
      const expected = source.kinds.filter((k) => !kinds.includes(k));
      if (expected.length > 0) throw new Error(`${source.url} does not define ${expected.join(', ')}`);
      writeFileSync(`${target}.part`, text);
      renameSync(`${target}.part`, target);
      writeFileSync(stamp, `${source.url}\n`);
      console.log(`downloaded ${target}`);
    } catch (error) {
      failed++;
      const reason =
        error instanceof Error ? `${error.message}${error.cause ? ` (${error.cause})` : ''}` : error;
      console.error(`failed     ${source.file}: ${reason}`);
    }
  }
  try {
    for (const path of await ensureGoModuleCrds(out)) console.log(`extracted  ${path}`);
  } catch (error) {
    failed++;
    console.error(`failed     Go module CRDs: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (failed > 0) {
    console.error(
      `${failed} CRD file(s) missing in ${out}. Copy them there by hand from the URLs in knative/crd-sources.ts, ` +
        'or set KNATIVE_CRDS_DIR to a folder that has them.',
    );
    process.exit(1);
  }
}

await main(process.argv.slice(2));
