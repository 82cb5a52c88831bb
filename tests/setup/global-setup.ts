import type { TestProject } from 'vitest/node';
import { ensureServices, type ServiceUrls } from './services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServiceUrls;
  }
}

/** Brings real MariaDB, Redis and Kafka up for the integration tier (or uses the URLs given). */
export default async function setup(project: TestProject) {
  const started = Date.now();
  const services = await ensureServices((line) => process.stdout.write(`[services] ${line}\n`));
  process.stdout.write(
    `[services] ${services.source}: ${services.databaseUrl.replace(/:[^:@/]*@/, ':***@')}, ${services.redisUrl}, ${services.kafkaBrokers} (${Date.now() - started} ms)\n`,
  );
  project.provide('services', {
    databaseUrl: services.databaseUrl,
    redisUrl: services.redisUrl,
    kafkaBrokers: services.kafkaBrokers,
  });
  return async () => {
    await services.stop();
  };
}
