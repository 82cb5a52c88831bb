import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * Lua sources live in ./lua and are read once per process. The build copies them next to each bundle,
 * which is why the path is resolved from import.meta.url. A line `--#include <name>` is replaced by that
 * file: EVALSHA runs one self-contained source, and this keeps a step several scripts share in one file.
 */
const sources = new Map<string, string>();

export function luaSource(name: string): string {
  let source = sources.get(name);
  if (source === undefined) {
    source = readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8').replace(
      /^--#include ([\w-]+)$/gm,
      (_, included: string) => luaSource(included).trimEnd(),
    );
    sources.set(name, source);
  }
  return source;
}

export interface LuaScript {
  name: string;
  sha: string;
  run(redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown>;
}

/** Calls by SHA; if the server lost its script cache (restart, failover) the source is sent once more. */
export function defineLuaScript(name: string): LuaScript {
  const source = luaSource(name);
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    name,
    sha,
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
          return redis.eval(source, keys.length, ...keys, ...args);
        }
        throw error;
      }
    },
  };
}
