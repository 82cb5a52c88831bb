import { mount as chargePoints } from '../functions/charge-points/main.ts';
import { mount as enterQueue } from '../functions/enter-queue/main.ts';
import { mount as holdSeat } from '../functions/hold-seat/main.ts';
import { mount as listSeats } from '../functions/list-seats/main.ts';
import { mount as pay } from '../functions/pay/main.ts';
import { mount as web } from '../functions/web/main.ts';
import { seedDemoConcert } from '../shared/catalog/demo-seed.ts';
import type { Runtime } from '../shared/runtime.ts';
import type { Mount } from '../shared/serve.ts';
import { startEvents } from './events.ts';

/** Every function, as the all-in-one server mounts them (the benchmark server adds its baseline). */
export const allMounts: Mount[] = [enterQueue, listSeats, holdSeat, pay, chargePoints, web];

export async function startAllInOne(runtime: Runtime): Promise<(() => Promise<void>) | undefined> {
  if (runtime.config.seedDemo) {
    const id = await seedDemoConcert(runtime.database.db, runtime.clock.now());
    if (id) runtime.logger.info({ concertId: id }, 'demo concert seeded');
  }
  return startEvents(runtime);
}
