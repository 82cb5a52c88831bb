import { describe, expect, it } from 'vitest';
import { parseOptions, percent, UsageError } from './options.ts';

describe('parseOptions', () => {
  it('has the documented defaults', () => {
    const o = parseOptions(['hold-seat'])!;
    expect(o).toMatchObject({
      fn: 'hold-seat',
      connections: [1, 2, 4, 8, 16, 32, 64, 128],
      stepSeconds: 5,
      warmupSeconds: 2,
      utilization: 0.7,
      spike: 10_000,
      runner: 'bundle',
      write: false,
      keep: false,
      rule: { p99BudgetMs: 50, minGain: 0.1, maxP99Growth: 0.5, maxErrorRate: 0.01 },
    });
    expect(o.requests).toBeUndefined();
  });

  it('reads every flag', () => {
    const o = parseOptions([
      'enter-queue',
      '--connections',
      '2,8,32',
      '--step-seconds',
      '3',
      '--p99-budget-ms',
      '80',
      '--utilization',
      '0.6',
      '--spike',
      '5000',
      '--max-error-rate',
      '0.5',
      '--write',
      '--spec',
      '/tmp/a.yaml',
    ])!;
    expect(o.connections).toEqual([2, 8, 32]);
    expect(o.stepSeconds).toBe(3);
    expect(o.rule.p99BudgetMs).toBe(80);
    expect(o.rule.maxErrorRate).toBe(0.005);
    expect(o.utilization).toBe(0.6);
    expect(o.spike).toBe(5000);
    expect(o.write).toBe(true);
    expect(o.spec).toBe('/tmp/a.yaml');
  });

  it('returns null for --help', () => {
    expect(parseOptions(['--help'])).toBeNull();
    expect(parseOptions(['hold-seat', '-h'])).toBeNull();
  });

  it('lists the known functions for an unknown one, with exit code 64', () => {
    try {
      parseOptions(['hold-seats']);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(64);
      expect((error as Error).message).toBe(
        'unknown function "hold-seats"; known: enter-queue, list-seats, hold-seat, pay, charge-points',
      );
    }
    expect(() => parseOptions([])).toThrow(UsageError);
  });

  it('refuses bad values', () => {
    expect(() => parseOptions(['pay', '--connections', '4,2'])).toThrow('ascend');
    expect(() => parseOptions(['pay', '--connections', '0'])).toThrow('bad step');
    expect(() => parseOptions(['pay', '--step-seconds', '2.5'])).toThrow('whole number');
    expect(() => parseOptions(['pay', '--utilization', '150'])).toThrow('percentage');
    expect(() => parseOptions(['pay', '--bogus'])).toThrow(UsageError);
    expect(() => parseOptions(['pay', 'list-seats'])).toThrow('one function at a time');
  });
});

describe('percent', () => {
  it('reads 70, 70% and 0.7 alike', () => {
    expect(percent('u', '70', 0)).toBe(0.7);
    expect(percent('u', '70%', 0)).toBe(0.7);
    expect(percent('u', '0.7', 0)).toBe(0.7);
    expect(percent('u', undefined, 0.5)).toBe(0.5);
  });
});
