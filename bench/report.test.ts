import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeResultsTable } from './report.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function docWith(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
  dirs.push(dir);
  const file = join(dir, 'benchmarks.md');
  writeFileSync(file, text);
  return file;
}

describe('writeResultsTable', () => {
  it('replaces only what lies between the markers, keeping the history around them', () => {
    const file = docWith(
      '# Benchmarks\n\n<!-- bench:start -->\nold table\n<!-- bench:end -->\n\n## History\nkept\n',
    );
    writeResultsTable(file, 'new table\n');
    expect(readFileSync(file, 'utf8')).toBe(
      '# Benchmarks\n\n<!-- bench:start -->\nnew table\n<!-- bench:end -->\n\n## History\nkept\n',
    );
  });

  it('refuses a file without the markers instead of appending a second section', () => {
    const file = docWith('# Benchmarks\n');
    expect(() => writeResultsTable(file, 'table\n')).toThrow(/no <!-- bench:start -->/);
    expect(readFileSync(file, 'utf8')).toBe('# Benchmarks\n');
  });
});
