import { calibrate } from './calibrate.ts';
import { holdStampede, holdUncontended } from './hold.ts';
import { pay } from './pay.ts';
import { charge } from './points.ts';
import { enterQueue, enterQueueOpening, queueStatus } from './queue.ts';
import type { Scenario } from './scenario.ts';
import { seatMap } from './seat-map.ts';
import { sse } from './sse.ts';

/** In the order `npm run bench` runs them when none is named. */
export const scenarios: Scenario[] = [
  calibrate,
  enterQueueOpening,
  enterQueue,
  queueStatus,
  seatMap,
  holdUncontended,
  holdStampede,
  charge,
  pay,
  sse,
];
