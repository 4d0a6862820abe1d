/**
 * Access decisions on the box (issue 10): lists indexed for a lookup per confirmed read
 * (`ListIndex`), the match cost (`plateDistance`), schedules in a time zone and the decision
 * (`decide`). Pure and synchronous: no I/O, no clock of its own.
 */
export * from './plate-distance.js';
export * from './schedule.js';
export * from './list-index.js';
export * from './decide.js';
