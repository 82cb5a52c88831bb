import { parseArgs } from 'node:util';
import { defaultRule, type KneeRule } from './knee.ts';
import { type FunctionName, functionNames } from './workloads.ts';

export interface TuneOptions {
  fn: FunctionName;
  connections: number[];
  stepSeconds: number;
  warmupSeconds: number;
  rule: KneeRule;
  /** Fraction, 0.7 = 70 %. */
  utilization: number;
  spike: number;
  threads: number;
  requests?: number;
  dbPool?: number;
  logLevel?: string;
  runner: 'bundle' | 'tsx';
  write: boolean;
  spec?: string;
  save?: string;
  from?: string;
  keep: boolean;
}

export const usage = `usage: npm run tune -- <function> [options]

Drives one function, run alone as its container runs it (the esbuild bundle, real MariaDB, Redis and Kafka
on this machine), at increasing concurrency with wrk; finds the knee of its latency curve; recommends
containerConcurrency, target and maxScale for knative/autoscaling.yaml; writes them with --write.

functions: ${functionNames.join(', ')}

measuring
  --connections 1,2,4,8,16,32,64,128   concurrency steps (wrk connections), ascending
  --step-seconds 5                     measured seconds per step
  --warmup-seconds 2                   one warm-up at 8 connections before the first step
  --threads 2                          wrk threads (at most one per connection)
  --requests N                         lines to prepare (default: enough single-use lines for the plan)
  --db-pool N                          DB_POOL_SIZE of the function (default: its dbPoolSize in the spec)
  --log-level L                        LOG_LEVEL of the function (default: the prod environment's)
  --runner bundle|tsx                  dist/<fn>/index.mjs built by scripts/build.ts (default), or
                                       scripts/run-function.ts under tsx
  --keep-db                            keep the run's database, Redis keys and topics

knee and recommendation
  --p99-budget-ms 50                   a step with a slower p99 is past the knee
  --min-gain 10                        percent: saturated when req/s gains less than this ...
  --max-p99-growth 50                  percent: ... while p99 grows more than this
  --max-error-rate 1                   percent of answers that are not the expected status
  --utilization 70                     percent (or 0.7): Knative target-utilization-percentage
  --spike 10000                        req/s the function must absorb at an opening (the ADR's spike)

output
  --write                              update the function's entry in the spec (default: print only)
  --spec knative/autoscaling.yaml      the file read (and written with --write)
  --save FILE                          save the measured curve as JSON
  --from FILE                          do not measure: analyse a curve saved with --save
  --help

Loopback only: the services must be on 127.0.0.1 (tests/setup/services.ts starts them when they are not).
`;

export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 64,
  ) {
    super(message);
  }
}

function number(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  integer = false,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new UsageError(
      `--${name}: expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/** A percentage given as 70 or 0.7 (or 70%), as a fraction. */
export function percent(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw.replace(/%$/, ''));
  if (!Number.isFinite(value) || value <= 0 || value > 100) {
    throw new UsageError(`--${name}: expected a percentage (70, 70% or 0.7), got ${JSON.stringify(raw)}`);
  }
  return value <= 1 && !raw.endsWith('%') ? value : value / 100;
}

/** null: --help was asked for. */
export function parseOptions(argv: string[]): TuneOptions | null {
  let parsed: ReturnType<typeof parseArgsStrict>;
  try {
    parsed = parseArgsStrict(argv);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values: v, positionals } = parsed;
  if (v.help) return null;
  const fn = positionals[0];
  if (!fn) throw new UsageError(`name a function: ${functionNames.join(', ')}`);
  if (!(functionNames as readonly string[]).includes(fn)) {
    throw new UsageError(`unknown function ${JSON.stringify(fn)}; known: ${functionNames.join(', ')}`);
  }
  if (positionals.length > 1) throw new UsageError(`one function at a time (got ${positionals.join(', ')})`);

  const connections = (v.connections ?? '1,2,4,8,16,32,64,128').split(',').map((c) => {
    const n = Number(c.trim());
    if (!Number.isInteger(n) || n < 1 || n > 10_000)
      throw new UsageError(`--connections: bad step ${JSON.stringify(c)}`);
    return n;
  });
  for (let i = 1; i < connections.length; i++) {
    if (connections[i]! <= connections[i - 1]!) throw new UsageError('--connections: steps must ascend');
  }
  const runner = v.runner ?? 'bundle';
  if (runner !== 'bundle' && runner !== 'tsx') throw new UsageError('--runner: bundle or tsx');
  if (v.from && (v.save || v['keep-db']))
    throw new UsageError('--from analyses a saved curve: no --save or --keep-db');

  const options: TuneOptions = {
    fn: fn as FunctionName,
    connections,
    stepSeconds: number('step-seconds', v['step-seconds'], 5, 1, 600, true),
    warmupSeconds: number('warmup-seconds', v['warmup-seconds'], 2, 0, 600, true),
    rule: {
      p99BudgetMs: number('p99-budget-ms', v['p99-budget-ms'], defaultRule.p99BudgetMs, 0.1, 600_000),
      minGain: number('min-gain', v['min-gain'], defaultRule.minGain * 100, 0, 1000) / 100,
      maxP99Growth:
        number('max-p99-growth', v['max-p99-growth'], defaultRule.maxP99Growth * 100, 0, 10_000) / 100,
      maxErrorRate:
        number('max-error-rate', v['max-error-rate'], defaultRule.maxErrorRate * 100, 0, 100) / 100,
    },
    utilization: percent('utilization', v.utilization, 0.7),
    spike: number('spike', v.spike, 10_000, 1, 10_000_000),
    threads: number('threads', v.threads, 2, 1, 64, true),
    runner,
    write: v.write ?? false,
    keep: v['keep-db'] ?? false,
  };
  if (v.requests !== undefined) options.requests = number('requests', v.requests, 0, 1, 1_000_000, true);
  if (v['db-pool'] !== undefined) options.dbPool = number('db-pool', v['db-pool'], 0, 1, 500, true);
  if (v['log-level'] !== undefined) options.logLevel = v['log-level'];
  if (v.spec !== undefined) options.spec = v.spec;
  if (v.save !== undefined) options.save = v.save;
  if (v.from !== undefined) options.from = v.from;
  return options;
}

function parseArgsStrict(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      connections: { type: 'string' },
      'step-seconds': { type: 'string' },
      'warmup-seconds': { type: 'string' },
      threads: { type: 'string' },
      requests: { type: 'string' },
      'db-pool': { type: 'string' },
      'log-level': { type: 'string' },
      runner: { type: 'string' },
      'keep-db': { type: 'boolean' },
      'p99-budget-ms': { type: 'string' },
      'min-gain': { type: 'string' },
      'max-p99-growth': { type: 'string' },
      'max-error-rate': { type: 'string' },
      utilization: { type: 'string' },
      spike: { type: 'string' },
      write: { type: 'boolean' },
      spec: { type: 'string' },
      save: { type: 'string' },
      from: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
