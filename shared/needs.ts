/**
 * What each deployable function reaches, read from its main.ts and the runtime parts it mounts. Production
 * start-up refuses a function missing a required key, and knative/generate.ts hands each function exactly
 * these keys (its own ExternalSecret), so a Service never holds a credential its code does not use.
 */
export type Need = 'database' | 'readReplica' | 'redis' | 'kafka' | 'userAuth' | 'queueTokens' | 'webhook';

export const needs = {
  'enter-queue': ['database', 'redis', 'userAuth', 'queueTokens'],
  'list-seats': ['database', 'readReplica', 'redis', 'userAuth', 'queueTokens'],
  'hold-seat': ['database', 'redis', 'userAuth', 'queueTokens'],
  pay: ['database', 'redis', 'userAuth', 'queueTokens'],
  'charge-points': ['database', 'redis', 'userAuth'],
  // The pages read nothing themselves and verify no token; the runtime every function starts on opens both.
  web: ['database', 'redis'],
  // The queue store signs nothing: the admission run only moves users from waiting to active.
  'admit-queue': ['database', 'redis'],
  'expire-holds': ['database', 'redis'],
  'release-seat': ['database', 'redis'],
  'outbox-relay': ['database', 'kafka'],
  notify: ['database', 'webhook'],
} as const satisfies Record<string, readonly Need[]>;

export type FunctionName = keyof typeof needs;

/** The variables behind each need; `required` ones must be set in production, the others are wired but may be empty. */
export const needKeys: Record<Need, { key: string; required: boolean }[]> = {
  database: [{ key: 'DATABASE_URL', required: true }],
  readReplica: [{ key: 'DATABASE_READ_URL', required: false }],
  redis: [{ key: 'REDIS_URL', required: true }],
  kafka: [{ key: 'KAFKA_BROKERS', required: true }],
  userAuth: [{ key: 'AUTH_JWT_SECRET', required: true }],
  queueTokens: [{ key: 'QUEUE_TOKEN_SECRET', required: true }],
  // Without a URL notify records the notification and sends nothing (triggers/notify/notify.ts).
  webhook: [
    { key: 'NOTIFY_WEBHOOK_URL', required: false },
    { key: 'NOTIFY_WEBHOOK_SECRET', required: false },
  ],
};

/** `index.mjs --migrate` (the pre-rollout Job) needs only the database. */
export const migrateTask = 'migrate';

export const isFunctionName = (name: string): name is FunctionName => Object.hasOwn(needs, name);

/** Every variable a function is handed, in a stable order. */
export function keysOf(name: FunctionName): { key: string; required: boolean }[] {
  return needs[name].flatMap((need: Need) => needKeys[need]);
}

export function requiredKeys(name: FunctionName | typeof migrateTask): string[] {
  if (name === migrateTask) return ['DATABASE_URL'];
  return keysOf(name)
    .filter((k) => k.required)
    .map((k) => k.key);
}
