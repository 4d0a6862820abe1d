/** ONNX inference off the event loop, with execution-provider choice and CPU fallback. */
export { InferenceHost, type InferenceHostOptions } from './host.js';
export { providerAvailable, resolveProviders } from './providers.js';
export { LazyModel } from './lazy-model.js';
export * from './types.js';
