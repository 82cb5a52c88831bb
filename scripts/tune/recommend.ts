import type { Autoscaling } from '../../knative/spec.ts';
import type { CurvePoint } from './knee.ts';

/**
 * From the knee to Knative's numbers, with Little's law (L = λ·W: requests in flight = arrival rate × time
 * in the system).
 *
 * - containerConcurrency = the knee concurrency c: the hard limit per pod. Past it a pod only queues, so
 *   Knative's activator/queue-proxy should buffer the surplus instead.
 * - Knative multiplies the `target` annotation by `target-utilization-percentage` (its scale-out point is
 *   target × utilization, e.g. containerConcurrency 10 at 70 % scales out at 7 in flight). So the effective
 *   target c × u is written as target = c (concurrency metric) or target = λ_pod (rps metric), with
 *   targetUtilizationPercentage = u; writing c × u into target as well would scale out at u², 49 %.
 * - λ_pod = throughput at the knee. One pod must not run above λ_pod × u in steady state, so the spike
 *   needs maxScale = ceil(spike / (λ_pod × u)) pods.
 * - Little check: the generator is a closed loop, so exactly c requests are in flight and the mean time in
 *   the system is W = c / λ. wrk's own mean cannot be used for it: before reporting, wrk corrects its
 *   histogram for coordinated omission (stats_correct adds the samples a stalled connection would have
 *   sent), which lifts its mean and tail. W = p50 is shown against it: λ_pod × p50 should come out a little
 *   under c (a right-skewed latency has its median below its mean). Cluster-wide, the spike keeps
 *   spike × W requests in flight; divided by what one pod may hold (c × u) that is the pod count again,
 *   seen through concurrency instead of throughput.
 * - Opening: new pods need seconds (start, readiness) and the autoscaler's panic window to arrive, so for the
 *   first seconds the pods already running carry the spike at up to knee throughput (100 %, not u):
 *   minScale (and initialScale) for the opening = ceil(spike / λ_pod), set before an opening and lowered
 *   after (README, "Before an opening").
 */

export type Metric = Autoscaling['metric'];

export interface RecommendInput {
  knee: CurvePoint;
  /** Fraction, 0.7 = 70 %. */
  utilization: number;
  /** Requests per second the function must absorb at the opening. */
  spike: number;
  metric: Metric;
  /** DB_POOL_SIZE of one pod: maxScale × this = database connections at full scale. */
  dbPoolSize: number;
  /** Whether every request needs a database connection (then a knee at the pool size is the pool). */
  dbBound?: boolean;
  /**
   * Whether containerConcurrency becomes a hard limit. False for a function whose long-lived requests
   * (enter-queue's SSE streams) would count against it.
   */
  hardLimit: boolean;
  /** The service's values now (base, before environment overrides). */
  current: Autoscaling;
  /** maxScale may not go below the highest minScale or initialScale any environment sets. */
  maxScaleFloor: number;
}

export interface Recommendation {
  containerConcurrency: number;
  /** The annotation value to write; null when the metric is cpu or memory (left as it is). */
  target: number | null;
  targetUtilizationPercentage: number;
  /** target × utilization: where Knative scales out, in the metric's unit. */
  effectiveTarget: number | null;
  lambdaPod: number;
  wP50Ms: number;
  /** The closed loop's exact mean time in the system: c / λ (all answers). */
  wMeanMs: number;
  /** λ_pod × W_p50 at the knee, to compare with its concurrency. */
  inFlightP50: number;
  /** inFlightP50 / c: a little under 1 when consistent. */
  littleRatio: number;
  /** spike × W_p50: requests in flight across all pods during the spike. */
  spikeInFlight: number;
  maxScale: number;
  /** The value before raising it to maxScaleFloor. */
  maxScaleComputed: number;
  /** The pod count reached through concurrency: ceil(spike × W_p50 / (c × u)). */
  podsByConcurrency: number;
  openingMinScale: number;
  dbConnectionsAtMaxScale: number;
  /** The keys and values to write to the service's autoscaling entry. */
  changes: Partial<Autoscaling>;
  notes: string[];
}

/** The plan's cap on pods per API tier (docs/design.md, "Sizing"). */
export const adrPodCap = 50;

export function recommend(input: RecommendInput): Recommendation {
  const { knee, utilization: u, spike } = input;
  if (!(u > 0 && u <= 1)) throw new Error(`utilization must be in (0, 1], got ${u}`);
  if (!(spike > 0)) throw new Error(`spike must be > 0 req/s, got ${spike}`);
  if (!(knee.rps > 0)) throw new Error(`no throughput at the knee (c=${knee.concurrency})`);

  const c = knee.concurrency;
  const lambda = knee.rps;
  const notes: string[] = [];
  const utilizationPercentage = Math.round(u * 100);

  let target: number | null;
  if (input.metric === 'concurrency') target = c;
  else if (input.metric === 'rps') target = Math.max(1, Math.floor(lambda));
  else {
    target = null;
    notes.push(`metric ${input.metric}: target is a resource percentage, left as it is.`);
  }
  const effectiveTarget = target === null ? null : target * (utilizationPercentage / 100);

  const maxScaleComputed = Math.ceil(spike / (lambda * u));
  const maxScale = Math.max(maxScaleComputed, input.maxScaleFloor, 1);
  if (maxScale > maxScaleComputed) {
    notes.push(
      `maxScale raised from ${maxScaleComputed} to ${maxScale}: an environment sets minScale/initialScale ${input.maxScaleFloor}.`,
    );
  }
  if (maxScale > adrPodCap) {
    notes.push(
      `maxScale ${maxScale} exceeds the ADR's ${adrPodCap} pods per tier: at this per-pod throughput the spike needs more pods than planned (or a faster pod: see the caveat on laptop numbers).`,
    );
  }
  if (input.dbBound && c >= input.dbPoolSize) {
    notes.push(
      `the knee (c=${c}) is at or above DB_POOL_SIZE ${input.dbPoolSize}: past the pool, requests wait inside the pod for a connection. --db-pool ${input.dbPoolSize * 2} shows whether a larger pool moves the knee (at maxScale × pool connections through RDS Proxy).`,
    );
  }
  const openingMinScale = Math.min(maxScale, Math.ceil(spike / lambda));
  const answersPerSecond = knee.ok > 0 ? (lambda * (knee.ok + knee.errors)) / knee.ok : lambda;
  const wP50S = knee.p50Ms / 1000;
  const inFlightP50 = lambda * wP50S;

  const changes: Partial<Autoscaling> = {};
  if (input.hardLimit) changes.containerConcurrency = c;
  else {
    notes.push(
      `containerConcurrency not written (stays ${input.current.containerConcurrency}): long-lived requests of this function would count against a hard limit of ${c}.`,
    );
  }
  if (target !== null) changes.target = target;
  changes.targetUtilizationPercentage = utilizationPercentage;
  changes.maxScale = maxScale;
  if (input.metric === 'concurrency' && !input.hardLimit && input.current.containerConcurrency > 0) {
    // checkAutoscaling refuses target > containerConcurrency for the concurrency metric.
    changes.target = Math.min(c, input.current.containerConcurrency);
  }

  return {
    containerConcurrency: c,
    target: changes.target ?? target,
    targetUtilizationPercentage: utilizationPercentage,
    effectiveTarget:
      changes.target !== undefined ? changes.target * (utilizationPercentage / 100) : effectiveTarget,
    lambdaPod: lambda,
    wP50Ms: knee.p50Ms,
    wMeanMs: (c / answersPerSecond) * 1000,
    inFlightP50,
    littleRatio: inFlightP50 / c,
    spikeInFlight: spike * wP50S,
    maxScale,
    maxScaleComputed,
    podsByConcurrency: Math.ceil((spike * wP50S) / (c * u)),
    openingMinScale,
    dbConnectionsAtMaxScale: maxScale * input.dbPoolSize,
    changes,
    notes,
  };
}
