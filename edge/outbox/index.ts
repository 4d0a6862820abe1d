/** Outbox stage: durable event store with per-exporter delivery state (see outbox.ts for guarantees). */
export { Outbox, writeFileAtomic, type OutboxEvent, type PendingDelivery, type OutboxOptions, type OutboxStats, type DeliveryState } from './outbox.js';
export { makeEventId } from './event-id.js';
