import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from './config.ts';

describe('README configuration table', () => {
  it('documents every configuration key', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const missing = Object.keys(configSchema.shape).filter(
      (key) => !new RegExp(`^\\|\\s*\`${key}\`\\s*\\|`, 'm').test(readme),
    );
    expect(missing).toEqual([]);
  });
});
