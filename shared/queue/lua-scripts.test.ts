import { describe, expect, it } from 'vitest';
import { luaSource } from '../redis/scripts.ts';

const scripts = ['queue-enter', 'queue-status', 'queue-admit'];

function stepOf(name: string): string {
  const source = luaSource(name);
  const start = source.indexOf('-- >>> admission step');
  const end = source.indexOf('-- <<< admission step');
  expect(start, `${name}.lua marks the start of the admission step`).toBeGreaterThanOrEqual(0);
  expect(end, `${name}.lua marks the end of the admission step`).toBeGreaterThan(start);
  return source.slice(start, end);
}

describe('queue Lua scripts', () => {
  // Each script must be self-contained (EVALSHA runs one source), so the step is repeated: it must not drift.
  it('share one admission step, character for character', () => {
    const [first, ...rest] = scripts.map(stepOf);
    for (const step of rest) expect(step).toBe(first);
  });

  it('never use Lua randomness or server time (callers pass now and the random keys)', () => {
    for (const name of scripts) expect(luaSource(name)).not.toMatch(/math\.random|'TIME'/);
  });
});
