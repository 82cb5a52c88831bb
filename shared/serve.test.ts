import { describe, expect, it } from 'vitest';
import { workerPlan } from './serve.ts';

const real = { DATABASE_URL: 'mysql://u:p@127.0.0.1:3306/concert', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('workerPlan (how many processes npm start serves from)', () => {
  it('is one per core on real services when WORKERS is unset', () => {
    expect(workerPlan(real, 4)).toEqual({ count: 4, why: '4, one per core (set WORKERS to choose)' });
  });

  it('takes WORKERS as given on real services', () => {
    expect(workerPlan({ ...real, WORKERS: 3 }, 8)).toEqual({ count: 3, why: '3 (WORKERS)' });
  });

  it('stays one process while the database or Redis is embedded, and says why WORKERS is not used', () => {
    expect(workerPlan({ REDIS_URL: real.REDIS_URL, WORKERS: 2 }, 8)).toEqual({
      count: 1,
      why: 'one process: the embedded database and Redis live inside it (WORKERS=2 needs DATABASE_URL and REDIS_URL)',
    });
    expect(workerPlan({ DATABASE_URL: real.DATABASE_URL }, 8)).toEqual({
      count: 1,
      why: 'one process: the embedded database and Redis live inside it',
    });
  });
});
