import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreOpenApiSources, crdCacheDir, type GoModuleCrd, goModuleCrds } from './crd-sources.ts';

const proxy = 'https://proxy.golang.org';

/**
 * Puts each Go-module schema file (CRDs, and the Kubernetes OpenAPI documents) into `dir` unless it is there already: downloads the module's zip once from
 * the Go module proxy and extracts the one file (with `unzip`). Returns the files it wrote.
 */
export async function ensureGoModuleCrds(
  dir = crdCacheDir,
  crds: GoModuleCrd[] = [...goModuleCrds, ...coreOpenApiSources],
): Promise<string[]> {
  const wanted = crds.filter((crd) => !existsSync(join(dir, crd.file)));
  if (wanted.length === 0) return [];
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const key of new Set(wanted.map((crd) => `${crd.module}@${crd.version}`))) {
    const [module, version] = key.split('@') as [string, string];
    const zip = join(dir, `${module.replaceAll('/', '_')}@${version}.zip`);
    if (!existsSync(zip)) {
      const res = await fetch(`${proxy}/${module.toLowerCase()}/@v/${version}.zip`, {
        signal: AbortSignal.timeout(120_000),
      });
      if (!res.ok) throw new Error(`${proxy}: ${module}@${version}: HTTP ${res.status}`);
      writeFileSync(`${zip}.part`, Buffer.from(await res.arrayBuffer()));
      renameSync(`${zip}.part`, zip);
    }
    for (const crd of wanted.filter((c) => c.module === module && c.version === version)) {
      const text = execFileSync('unzip', ['-p', zip, `${module}@${version}/${crd.path}`], {
        maxBuffer: 64 * 1024 * 1024,
      });
      writeFileSync(join(dir, crd.file), text);
      written.push(join(dir, crd.file));
    }
    rmSync(zip, { force: true });
  }
  return written;
}
