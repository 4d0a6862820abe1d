/**
 * Puts a `Retry-After` header on the contract's 429 body when a route's work was refused by
 * `Slots` (the error handler writes the body; this middleware adds the header on the way out).
 */
import type { MiddlewareHandler } from 'hono';
import type { Env } from '../http/types.js';
import { SlotsFull } from './slots.js';

export function retryAfterOnFull(): MiddlewareHandler<Env> {
  return async (c, next) => {
    await next();
    if (c.error instanceof SlotsFull) c.res.headers.set('Retry-After', String(c.error.retryAfterS));
  };
}
