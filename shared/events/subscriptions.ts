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

/**
 * As the KafkaSources in knative/autoscaling.yaml: releasing seats follows each seat's events in order;
 * notifications are independent of each other, so they are delivered in parallel.
 */
export const ordering: Record<SubscribedTrigger, 'ordered' | 'unordered'> = {
  'release-seat': 'ordered',
  notify: 'unordered',
};

export const allTopics = Object.values(topics);
