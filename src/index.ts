export * from './graph/index.js';
export * from './data/index.js';
export { UserError } from './util/errors.js';
export { Rng } from './util/rng.js';
export * from './match/index.js';
export * from './loss/index.js';
export * from './metrics/index.js';
// The model on onnxruntime: load a checkpoint, predict, export.
export { GraphModel, type ModelSpec, type EngineOptions } from './model/network.js';
export { loadModel, checkpointPath } from './train/trainer.js';
export { predictInputs, predictTexts, type Prediction, type TextPrediction } from './train/predict.js';
