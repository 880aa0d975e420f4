export * from './graph/index.js';
export * from './data/index.js';
export { UserError } from './util/errors.js';
export { Rng } from './util/rng.js';
export * from './match/index.js';
export * from './loss/index.js';
export * from './metrics/index.js';
