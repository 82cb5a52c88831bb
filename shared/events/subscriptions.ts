import { topics } from '../outbox/events.ts';

/** Which trigger hears which topics: the KafkaSources of knative/, and the local dispatcher's routes. */
export const subscriptions = {
  'release-seat': [topics.reservationExpired, topics.reservationCancelled],
  notify: [
    topics.reservationCreated,
    topics.paymentCompleted,
    topics.queueActivated,
    topics.reservationExpired,
  ],
} as const;

export type SubscribedTrigger = keyof typeof subscriptions;

export const allTopics = Object.values(topics);
