import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../errors.ts';
import type { AppEnv } from './env.ts';

/**
 * `/docs`: Swagger UI served from the pinned `swagger-ui-dist` package, so the page works with no network
 * and shows the code that this process runs. The bundle of a function (scripts/build.ts) carries the two
 * assets beside its index.mjs, where node_modules does not exist; from the sources they come from the package.
 */

export const docsAssets = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;

type AssetName = keyof typeof docsAssets;

/** Folder of the assets beside a bundle; scripts/build.ts writes the same name. */
export const bundledDocsDir = 'swagger-ui';

function assetDirs(): string[] {
  const dirs = [fileURLToPath(new URL(`./${bundledDocsDir}/`, import.meta.url))];
  try {
    const require = createRequire(import.meta.url);
    dirs.push(dirname(require.resolve('swagger-ui-dist/package.json')));
  } catch {
    // A bundle has no node_modules: the folder beside it is the only place.
  }
  return dirs;
}

const cache = new Map<AssetName, Buffer>();

/** Read once on first use, not at start, so a cold start does not pay for a page nobody asked for. */
function readAsset(name: AssetName): Buffer {
  const hit = cache.get(name);
  if (hit) return hit;
  for (const dir of assetDirs()) {
    try {
      const body = readFileSync(join(dir, name));
      cache.set(name, body);
      return body;
    } catch {
      // try the next place
    }
  }
  throw new AppError('NOT_FOUND', `${name} is not in this build`);
}

const page = (specUrl: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Concert reservation API</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script>
      window.onload = () => {
        window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specUrl)}, dom_id: '#swagger-ui' });
      };
    </script>
  </body>
</html>
`;

export function mountDocs(app: OpenAPIHono<AppEnv>, specUrl = '/openapi.json'): void {
  app.get('/docs', (c) => c.html(page(specUrl)));
  for (const [name, type] of Object.entries(docsAssets) as [AssetName, string][]) {
    app.get(`/docs/${name}`, (c) => {
      const body = readAsset(name);
      c.header('Content-Type', type);
      c.header('Cache-Control', 'public, max-age=3600');
      return c.body(new Uint8Array(body));
    });
  }
}
