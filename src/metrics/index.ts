export * from './wl.js';
