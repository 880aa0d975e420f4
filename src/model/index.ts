export * from './alphabet.js';
export * from './batch.js';
export { initEngine, tensorCount } from './engine.js';
export * from './network.js';
export * from './optimizer.js';
export * from './step.js';
export * from './decode.js';
export * from './gradientPool.js';
