/**
 * grapheme's engine entry (`import … from 'grapheme/tfjs'`): the parts that need tfjs, kept apart
 * from the engine-free core (`import … from 'grapheme'`). Call `initEngine()` once before any
 * tensor work: it selects the WebAssembly backend that ships in the package.
 */
export { tf, initEngine } from './model/engine.js';
export { structuralLossOp, type PredictionTensors } from './model/structuralLossOp.js';
export { GraphModel, type ModelSpec, type ModelOutput } from './model/network.js';
export { loadModel, checkpointPath } from './train/trainer.js';
export { predictTexts, type TextPrediction } from './train/predict.js';
