export * from './sinkhorn.js';
export * from './assignment.js';
