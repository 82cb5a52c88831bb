import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The client script's source text, built once per process. */
export type ClientScript = () => Promise<string>;

/** Where `npm run build` writes the client bundle, beside dist/web/index.mjs (the image has no esbuild). */
export const bundledClientFile = 'assets/app.js';
export const clientEntry = fileURLToPath(new URL('./client/main.ts', import.meta.url));

export async function bundleClient(minify: boolean): Promise<string> {
  // Not a literal: the function's own bundle must not pull esbuild in; only source checkouts get here.
  const name = 'esbuild';
  const { build } = (await import(name)) as typeof import('esbuild');
  const result = await build({
    entryPoints: [clientEntry],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify,
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('esbuild produced no client bundle');
  return file.text;
}

/** The prebuilt bundle when running from dist/, else built from source with esbuild on first request. */
export function clientScript(): ClientScript {
  let text: Promise<string> | undefined;
  return () => {
    text ??= (async () => {
      const built = fileURLToPath(new URL(bundledClientFile, import.meta.url));
      if (existsSync(built)) return readFileSync(built, 'utf8');
      return bundleClient(false);
    })();
    text.catch(() => {
      text = undefined;
    });
    return text;
  };
}
