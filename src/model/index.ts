export * from './alphabet.js';
export * from './batch.js';
export * from './forward.js';
export * from './network.js';
export * from './optimizer.js';
export * from './step.js';
export * from './decode.js';
export { defaultThreads, engineName } from './runtime.js';
