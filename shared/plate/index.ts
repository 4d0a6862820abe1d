/** Plate-text logic shared by the edge and the cloud: normalisation, look-alikes, region formats. */
export * from './normalize.js';
export * from './confusables.js';
export * from './formats.js';
