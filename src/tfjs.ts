/**
 * grapheme's tfjs entry (`import … from 'grapheme/tfjs'`): the structural loss as a tfjs op for
 * people's own tfjs models. It needs `@tensorflow/tfjs` and `@tensorflow/tfjs-backend-wasm`
 * installed beside grapheme (optional peer dependencies). Call `initEngine()` once before any
 * tensor work: it selects the WebAssembly backend that ships in that package.
 */
export { tf, initEngine } from './tfjs/engine.js';
export { structuralLossOp, type PredictionTensors } from './tfjs/structuralLossOp.js';
