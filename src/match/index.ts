export * from './sinkhorn.js';
