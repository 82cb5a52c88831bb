import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { bundleClient, bundledClientFile } from '../functions/web/assets.ts';
import { bundledDocsDir, docsAssets } from '../shared/http/docs-page.ts';

/**
 * `npm run build [-- <name>...]`: one self-contained ESM file per function and trigger under
 * dist/<name>/index.mjs, so a container starts without resolving node_modules (fast cold start).
 * The embedded SQLite engine stays out: a function alone always runs on real services.
 */
const root = new URL('../', import.meta.url).pathname;
const wanted = new Set(process.argv.slice(2));
const entries = ['functions', 'triggers'].flatMap((dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .filter((name) => existsSync(join(root, dir, name, 'main.ts')))
        .map((name) => ({ name, entry: join(root, dir, name, 'main.ts') }))
    : [],
);
const topicsEntry = join(root, 'shared', 'events', 'topics-main.ts');
const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const selected = entries.filter((e) => wanted.size === 0 || wanted.has(e.name));
if (selected.length === 0) {
  console.error(`nothing to build; known: ${entries.map((e) => e.name).join(', ')}`);
  process.exit(64);
}

for (const { name, entry } of selected) {
  const outdir = join(root, 'dist', name);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const started = performance.now();
  await build({
    // topics.mjs beside each function, so a Job can create the topics from any function's image.
    entryPoints: { index: entry, topics: topicsEntry },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    external: ['sql.js', 'cpu-features', 'ssh2'],
    // CommonJS dependencies (mysql2, kafkajs, ioredis) call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
  cpSync(join(root, 'shared', 'redis', 'lua'), join(outdir, 'lua'), { recursive: true });
  // The stored procedures' SQL, read by the migration that installs them (shared/db/procedures.ts).
  cpSync(join(root, 'shared', 'db', 'sql'), join(outdir, 'sql'), { recursive: true });
  // The /docs page reads these beside the bundle (shared/http/docs-page.ts): the image has no node_modules.
  mkdirSync(join(outdir, bundledDocsDir));
  for (const asset of Object.keys(docsAssets)) {
    cpSync(join(swaggerUiDir, asset), join(outdir, bundledDocsDir, asset));
  }
  // The pages' client script beside the bundle: the image has no esbuild to build it at the first request.
  if (name === 'web') {
    mkdirSync(dirname(join(outdir, bundledClientFile)), { recursive: true });
    writeFileSync(join(outdir, bundledClientFile), await bundleClient(true));
  }
  const kb = (statSync(join(outdir, 'index.mjs')).size / 1024).toFixed(0);
  console.log(
    `built ${name.padEnd(16)} dist/${name}/index.mjs  ${kb} KiB  (${(performance.now() - started).toFixed(0)} ms)`,
  );
}
