export * from './config.js';
export * from './softGraph.js';
export * from './structural.js';
export * from './crossEntropy.js';
export * from './io.js';
export * from './batch.js';
export * from './compare.js';
