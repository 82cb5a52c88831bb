import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve as resolvePath } from 'node:path';
import { cleanup, installSignalHandlers, onCleanup, run, tail } from '../../bench/lib/children.ts';
import { createHttpClient } from '../../bench/lib/http.ts';
import { runWrk, writeRequestFile, wrkBinary, wrkVersion } from '../../bench/lib/wrk.ts';
import { parseSpec, resolve, specPath } from '../../knative/spec.ts';
import { prepareEnvironment, repoRoot, runSettings, startServer } from './environment.ts';
import { errorRate, findKnee } from './knee.ts';
import { busyOver, cpuMeter, describeMachine } from './machine.ts';
import { parseOptions, type TuneOptions, UsageError, usage } from './options.ts';
import { recommend } from './recommend.ts';
import {
  caveat,
  formatCurve,
  formatMachine,
  formatRecommendation,
  type MeasuredStep,
  type TuneRun,
} from './report.ts';
import { editAutoscaling, scaleFloor, unifiedDiff } from './spec-write.ts';
import { plannedCount, type Workload, workloads } from './workloads.ts';

/**
 * `npm run tune -- <function>`: measures one function alone at increasing concurrency, finds the knee of its
 * latency curve and recommends (and with --write, writes) its autoscaling settings. See options.ts for the
 * flags, knee.ts for the rule, recommend.ts for the arithmetic.
 */

const log = (line: string) => process.stdout.write(`${line}\n`);
const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');

async function main(): Promise<number> {
  let options: TuneOptions | null;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n(npm run tune -- --help for the options)\n`);
      return error.exitCode;
    }
    throw error;
  }
  if (!options) {
    log(usage);
    return 0;
  }

  const specFile = resolvePath(options.spec ?? specPath);
  const specText = readFileSync(specFile, 'utf8');
  const spec = parseSpec(specText);
  const workload = workloads[options.fn];
  const base = resolve(spec, options.fn);
  const prod = resolve(spec, options.fn, 'prod');
  const dbPoolSize = options.dbPool ?? base.dbPoolSize;
  const logLevel = options.logLevel ?? spec.environments.prod?.config.LOG_LEVEL ?? 'info';

  let measured: TuneRun;
  if (options.from) {
    measured = JSON.parse(readFileSync(options.from, 'utf8')) as TuneRun;
    if (measured.version !== 1 || measured.fn !== options.fn) {
      throw new UsageError(`${options.from} is not a saved curve of ${options.fn}`);
    }
    log(`[tune] analysing ${options.from} (measured ${measured.measuredAt}); nothing is measured`);
  } else {
    installSignalHandlers(log, 'tune');
    try {
      measured = await measure(options, workload, dbPoolSize, logLevel);
    } finally {
      await cleanup(log, 'tune');
    }
    if (options.save) {
      writeFileSync(options.save, `${JSON.stringify(measured, null, 2)}\n`);
      log(`[tune] curve saved to ${options.save} (analyse again with --from ${options.save})`);
    }
  }

  const counted = measured.steps.filter((s) => !s.excluded);
  if (counted.length === 0) throw new Error('no step could be measured');
  const knee = findKnee(counted, options.rule);

  log('');
  log(`== npm run tune -- ${options.fn}: ${measured.measuredAt.replace('T', ' ').slice(0, 16)} UTC ==`);
  for (const line of formatMachine(measured)) log(line);
  const s = measured.settings;
  log(
    `Function: ${options.fn} alone (${s.runner === 'bundle' ? `node dist/${options.fn}/index.mjs, as its container runs it` : 'tsx scripts/run-function.ts'}), DB_POOL_SIZE ${s.dbPoolSize}, LOG_LEVEL ${s.logLevel}`,
  );
  log(
    `Load: ${s.request}; expected ${s.expectedStatus}; ${s.prepared.toLocaleString('en-US')} lines prepared`,
  );
  log(
    `Steps: ${s.stepSeconds} s each at ${measured.steps.map((x) => x.concurrency).join(', ')} connections; warm-up ${s.warmupSeconds} s; wrk threads <= ${s.threads}`,
  );
  for (const note of measured.notes) log(`Note: ${note}`);
  log('');
  for (const line of formatCurve(measured, knee)) log(line);
  log('');

  if (!knee.point) {
    log(`No recommendation: ${knee.summary}.`);
    for (const w of knee.warnings) log(`!! ${w}`);
    return options.write ? 2 : 0;
  }
  const rec = recommend({
    knee: knee.point,
    utilization: options.utilization,
    spike: options.spike,
    metric: base.autoscaling.metric,
    dbPoolSize,
    dbBound: workload.dbBound,
    hardLimit: workload.hardLimit,
    current: base.autoscaling,
    maxScaleFloor: scaleFloor(spec, options.fn),
  });
  const view = {
    fn: options.fn,
    metric: base.autoscaling.metric,
    current: base.autoscaling,
    prod: prod.autoscaling,
    rec,
    utilization: options.utilization,
    spike: options.spike,
    dbPoolSize,
    hardLimit: workload.hardLimit,
    ...(workload.hardLimitNote ? { hardLimitNote: workload.hardLimitNote } : {}),
    ...(options.spike === 10_000 ? { spikeNote: workload.spikeNote } : {}),
  };
  for (const line of formatRecommendation(view, knee, options.rule)) log(line);
  log('');
  for (const line of caveat) log(line);
  log('');

  const rel = relative(process.cwd(), specFile);
  const where = rel && !rel.startsWith('..') ? rel : specFile;
  const edit = editAutoscaling(specText, options.fn, rec.changes);
  if (edit.changed.length === 0) {
    log(`${where}: services.${options.fn}.autoscaling already has these values; nothing to write.`);
    return 0;
  }
  if (!options.write) {
    log(
      `Not written (no --write). --write would set in ${where}, services.${options.fn}.autoscaling: ${edit.changed
        .map((c) => `${c.key} ${c.from} -> ${c.to}`)
        .join(', ')}.`,
    );
    return 0;
  }
  writeFileSync(specFile, edit.text);
  log(`Wrote ${where} (validated against knative/spec.ts):`);
  log('');
  process.stdout.write(unifiedDiff(specText, edit.text, where));
  log('');
  for (const o of edit.overridden) log(`Still overridden per environment: ${o}`);
  if (specFile === resolvePath(specPath)) {
    log(
      'Next: npx tsx knative/generate.ts   (regenerates knative/base, the overlays and the Helm chart; commit them)',
    );
  } else {
    log(`Note: knative/generate.ts reads ${relative(repoRoot, specPath)} only; ${where} is not that file.`);
  }
  return 0;
}

async function measure(
  options: TuneOptions,
  workload: Workload,
  dbPoolSize: number,
  logLevel: string,
): Promise<TuneRun> {
  const wrk = await wrkVersion();
  if (!wrk) throw new Error(`${wrkBinary} not found: install it (Debian: sudo apt-get install wrk)`);
  const workDir = mkdtempSync(join(os.tmpdir(), `concert-tune-${options.fn}-`));
  let failed = true;
  onCleanup('removing the work directory', async () => {
    if (failed || options.keep) log(`[tune] logs and request list kept in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  });
  const loadAtStart = os.loadavg() as [number, number, number];
  const busyBefore = await busyOver(1000);

  if (options.runner === 'bundle') {
    log(`[tune] building dist/${options.fn}/index.mjs (scripts/build.ts)`);
    const built = await run(tsx, ['scripts/build.ts', options.fn], { cwd: repoRoot });
    if (built.code !== 0) throw new Error(`build failed:\n${built.stdout}${built.stderr}`);
  }

  const env = await prepareEnvironment({ keep: options.keep, log });
  const settings = runSettings(env, logLevel);
  const machine = { ...describeMachine({ wrk, ...env.versions }), loadAtStart, busyBefore };

  const plan = {
    steps: options.connections.length,
    stepSeconds: options.stepSeconds,
    warmupSeconds: options.warmupSeconds,
  };
  const count = plannedCount(workload, plan, options.requests);
  log(
    `[tune] preparing ${count.toLocaleString('en-US')} requests through the all-in-one server (setup only)`,
  );
  const setup = await startServer({
    label: 'setup server (server/main.ts)',
    command: tsx,
    args: ['server/main.ts'],
    settings: { ...settings, LOG_LEVEL: 'warn', SERVICE_NAME: 'tune-setup', DB_POOL_SIZE: 20 },
    logFile: join(workDir, 'setup-server.log'),
  });
  const mysql = await import('mysql2/promise');
  const db = await mysql.createConnection({ uri: env.databaseUrl });
  const http = createHttpClient(setup.url);
  let requests: Awaited<ReturnType<Workload['prepare']>>;
  try {
    requests = await workload.prepare(
      {
        http,
        run: env,
        log,
        async seatsOf(scheduleIds) {
          const [rows] = await db.query(
            'SELECT id, schedule_id FROM seats WHERE schedule_id IN (?) ORDER BY id',
            [scheduleIds],
          );
          return (rows as Array<{ id: number; schedule_id: number }>).map((r) => ({
            id: Number(r.id),
            scheduleId: Number(r.schedule_id),
          }));
        },
      },
      count,
    );
  } finally {
    http.close();
    await db.end();
    await setup.stop();
  }
  const file = join(workDir, `${options.fn}.requests`);
  writeRequestFile(file, [], requests);
  log(`[tune] setup server stopped; ${requests.length.toLocaleString('en-US')} requests in ${file}`);

  const fnServer = await startServer({
    label: `${options.fn} (alone)`,
    command: options.runner === 'bundle' ? process.execPath : tsx,
    args:
      options.runner === 'bundle'
        ? [`dist/${options.fn}/index.mjs`]
        : ['scripts/run-function.ts', options.fn],
    settings: { ...settings, SERVICE_NAME: options.fn, DB_POOL_SIZE: dbPoolSize },
    logFile: join(workDir, `${options.fn}.log`),
  });
  log(
    `[tune] ${options.fn} alone on ${fnServer.url} (pid ${fnServer.child.pid}, DB_POOL_SIZE ${dbPoolSize}, LOG_LEVEL ${logLevel})`,
  );
  let died: string | null = null;
  fnServer.child.once('exit', (code, signal) => {
    died = `${options.fn} exited during the run (${signal ?? code}); its log ends:\n${tail(fnServer.logFile, 20)}`;
  });
  const meter = cpuMeter(fnServer.child.pid!);
  // A slow answer past this counts as a timeout: an error of the step, which the knee rule weighs.
  const common = { url: fnServer.url, file, threads: options.threads, timeoutSeconds: 10 };
  const notes: string[] = [];
  const steps: MeasuredStep[] = [];
  let start = 0;

  if (options.warmupSeconds > 0) {
    const c = Math.min(8, options.connections[options.connections.length - 1]!);
    const warm = await runWrk({ ...common, connections: c, seconds: options.warmupSeconds, start });
    start = warm.nextStart;
    log(
      `[tune] warm-up ${options.warmupSeconds} s at ${c} connections: ${Math.round(warm.requests / warm.durationSeconds)} answers/s`,
    );
  }

  for (const connections of options.connections) {
    if (died) throw new Error(died);
    const last = steps[steps.length - 1];
    if (workload.singleUse && last) {
      const left = requests.length - start;
      const need = Math.ceil(last.rps * 2 * options.stepSeconds);
      if (left < need) {
        notes.push(
          `stopped before c=${connections}: ${left} unused requests left, the step may need ${need}; rerun with --requests ${Math.min(workload.maxCount, requests.length * 2)}${
            requests.length * 2 > workload.maxCount
              ? ' (the most prepare can make) or shorter --step-seconds'
              : ''
          }`,
        );
        break;
      }
    }
    const interval = meter.start(options.stepSeconds);
    const r = await runWrk({
      ...common,
      connections,
      seconds: options.stepSeconds,
      start,
      onStart: (pid) => interval.wrkStarted(pid),
    });
    const cpu = interval.result();
    start = r.nextStart;
    const ok = r.statuses[String(workload.expectedStatus)] ?? 0;
    const socket = r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout;
    const step: MeasuredStep = {
      concurrency: connections,
      seconds: r.durationSeconds,
      answers: r.requests,
      ok,
      errors: r.requests - ok + socket,
      rps: ok / r.durationSeconds,
      p50Ms: r.latencyMs.p50,
      meanMs: r.latencyMs.mean,
      p90Ms: r.latencyMs.p90,
      p99Ms: r.latencyMs.p99,
      maxMs: r.latencyMs.max,
      statuses: r.statuses,
      codes: r.codes,
      socketErrors: r.errors,
      repeated: r.repeated,
      cpu,
    };
    if (workload.singleUse && r.repeated > 0) {
      step.excluded = `the list ran out, ${r.repeated} requests were repeats`;
    }
    steps.push(step);
    const pct = (v: number | null) => (v === null ? '-' : `${v.toFixed(0)}%`);
    log(
      `[tune] c=${String(connections).padEnd(4)} ${Math.round(step.rps).toLocaleString('en-US').padStart(7)} req/s  p50 ${step.p50Ms.toFixed(1).padStart(6)} ms  p99 ${step.p99Ms
        .toFixed(1)
        .padStart(
          7,
        )} ms  errors ${step.errors}  CPU fn ${pct(cpu.fn)} db ${pct(cpu.db)} other ${pct(cpu.other)}${step.excluded ? `  (${step.excluded})` : ''}`,
    );
    if (step.excluded) {
      notes.push(`stopped at c=${connections}: ${step.excluded}; rerun with a larger --requests`);
      break;
    }
    if (errorRate(step) > 0.5 || step.p99Ms > options.rule.p99BudgetMs * 10) {
      if (connections !== options.connections[options.connections.length - 1]) {
        notes.push(`stopped after c=${connections}: far past the knee (errors or p99 > 10 × budget)`);
      }
      break;
    }
  }
  if (died) throw new Error(died);
  await fnServer.stop();
  failed = false;
  return {
    version: 1,
    fn: options.fn,
    measuredAt: new Date().toISOString(),
    machine,
    loadAtEnd: os.loadavg() as [number, number, number],
    settings: {
      request: workload.request,
      expectedStatus: workload.expectedStatus,
      runner: options.runner,
      dbPoolSize,
      logLevel,
      stepSeconds: options.stepSeconds,
      warmupSeconds: options.warmupSeconds,
      threads: options.threads,
      prepared: requests.length,
      singleUse: workload.singleUse,
    },
    steps,
    notes,
  };
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    process.stderr.write(`[tune] ${error instanceof Error ? error.message : String(error)}\n`);
    await cleanup(log, 'tune');
    process.exit(error instanceof UsageError ? error.exitCode : 1);
  },
);
