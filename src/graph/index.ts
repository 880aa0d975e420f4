export * from './types.js';
export * from './validate.js';
export * from './text.js';
export * from './polish.js';
export * from './builders.js';
export * from './cliques.js';
export * from './io.js';
export * from './ranks.js';
