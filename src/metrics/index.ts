export * from './wl.js';
export * from './ged.js';
