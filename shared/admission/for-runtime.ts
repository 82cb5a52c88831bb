import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Runtime } from '../runtime.ts';
import { type AimdConfig, defaultAimdConfig } from './aimd.ts';
import { createMemoryHealthBoard, createRedisHealthBoard, type HealthBoard } from './health-board.ts';
import { createHealthRecorder, type HealthRecorder, type ShopRoute } from './shop-health.ts';

export interface ShopHealthRecording {
  record(route: ShopRoute, ms: number, status: number): void;
}

/**
 * Counts requests in process and publishes them to the board once a second while there are any: the
 * timer stops after a second with nothing recorded and starts again on the next request, so a process
 * that serves no holds or payments writes nothing.
 */
export function createHealthPublisher(options: {
  recorder: HealthRecorder;
  board: HealthBoard;
  clock: Clock;
  intervalMs?: number;
  logger?: Logger | undefined;
}) {
  const { recorder, board, clock } = options;
  let timer: ReturnType<typeof setInterval> | undefined;
  let warned = false;
  const flush = async () => {
    const counts = recorder.take();
    if (!counts) {
      clearInterval(timer);
      timer = undefined;
      return;
    }
    try {
      await board.add(Math.floor(clock.now() / 1000), counts);
      warned = false;
    } catch (error) {
      // Redis down: these counts are lost, and the 503s it causes show in the next second's.
      if (!warned) options.logger?.warn({ err: String(error) }, 'shop health not published');
      warned = true;
    }
  };
  return {
    record(route: ShopRoute, ms: number, status: number) {
      recorder.record(route, ms, status);
      if (timer) return;
      timer = setInterval(() => void flush(), options.intervalMs ?? 1000);
      timer.unref();
    },
    flush,
  };
}

type HealthRuntime = Pick<Runtime, 'redis' | 'clock' | 'database' | 'logger'>;

interface ShopHealthParts {
  board: HealthBoard;
  recording: ReturnType<typeof createHealthPublisher>;
}

const built = new WeakMap<HealthRuntime, ShopHealthParts>();

/**
 * The board and this process's recorder, once per Runtime: embedded, the admit scheduler reads the
 * same in-memory board the mounted hold and pay functions write to.
 */
export function shopHealthFor(rt: HealthRuntime): ShopHealthParts {
  let parts = built.get(rt);
  if (!parts) {
    const board = rt.redis ? createRedisHealthBoard(rt.redis) : createMemoryHealthBoard();
    const recorder = createHealthRecorder(() => rt.database.poolStats());
    const recording = createHealthPublisher({ recorder, board, clock: rt.clock, logger: rt.logger });
    parts = { board, recording };
    built.set(rt, parts);
  }
  return parts;
}

export function aimdConfigOf(config: Config): AimdConfig {
  return {
    holdP99BudgetMs: config.ADMISSION_HOLD_P99_MS,
    payP99BudgetMs: config.ADMISSION_PAY_P99_MS,
    max503: config.ADMISSION_MAX_503,
    poolSaturation: config.ADMISSION_POOL_SATURATION,
    minSamples: defaultAimdConfig.minSamples,
    increaseFraction: config.ADMISSION_INCREASE_PERCENT / 100,
    decreaseFactor: config.ADMISSION_DECREASE_FACTOR,
    cooldownMs: config.ADMISSION_COOLDOWN_SECONDS * 1000,
  };
}
