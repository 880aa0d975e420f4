export * from './math.js';
export * from './strings.js';
export * from './records.js';
export * from './jsonl.js';
export * from './tasks.js';
export * from './evaluate.js';
