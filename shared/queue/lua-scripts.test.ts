import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { luaSource } from '../redis/scripts.ts';

const scripts = ['queue-enter', 'queue-status', 'queue-admit', 'queue-line'];
const raw = (name: string) => readFileSync(new URL(`../redis/lua/${name}.lua`, import.meta.url), 'utf8');

describe('queue Lua scripts', () => {
  it('each run the one shared admission step, included where the file says so', () => {
    const step = raw('queue-admit-step').trimEnd();
    for (const name of scripts) {
      expect(raw(name)).toContain('--#include queue-admit-step');
      expect(luaSource(name)).toContain(step);
      expect(luaSource(name)).not.toContain('--#include');
    }
  });

  it('never use Lua randomness or server time (callers pass now and the random keys)', () => {
    for (const name of scripts) expect(luaSource(name)).not.toMatch(/math\.random|'TIME'/);
  });
});
