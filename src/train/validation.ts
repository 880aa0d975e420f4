import { graphToText } from '../graph/builders.js';
import type { Example } from '../data/records.js';
import { emptySums, scoreExample, scoreStructuralTerms, type TermSums } from '../loss/batch.js';
import type { TargetGraph } from '../loss/softGraph.js';
import { decodeSoftGraph, type GraphModel } from '../model/index.js';
import { lossConfigOf, type TrainConfig } from './config.js';
import { buildersOf } from './data.js';

/** Validation of one model state on a set of examples: loss terms, decoded graphs, text exact match. */
export async function validate(model: GraphModel, examples: readonly Example[], targets: readonly TargetGraph[], cfg: TrainConfig, hasTexts: boolean, batchSize: number) {
  const lossCfg = lossConfigOf(cfg);
  const builder = buildersOf(cfg).target;
  const sums = emptySums();
  let textHits = 0;
  const decoded = (await model.predictGraphs(examples.map((e) => e.input), batchSize)).map((p, i) => {
    scoreExample(p, targets[i]!, lossCfg, sums);
    const g = decodeSoftGraph(p, model.spec.alphabet, model.spec.outputTypes, model.spec.undirectedOutput);
    const want = examples[i]!.targetText;
    if (hasTexts && want !== undefined && graphToText(g, builder) === want) textHits++;
    return g;
  });
  return { sums, decoded, textExactMatch: hasTexts ? textHits / Math.max(1, examples.length) : null };
}

/**
 * The structural terms of a run that does not train on them (cross-entropy), measured after an
 * epoch on the first `term_sample` training examples (a fixed sample, so that reassignments are
 * counted between epochs), added to `sums`. `matchings` holds those examples' edit paths.
 */
export async function scoreTrainingSample(model: GraphModel, examples: readonly Example[], targets: readonly TargetGraph[], cfg: TrainConfig, sums: TermSums, matchings: Array<number[] | null>): Promise<void> {
  const n = Math.min(cfg.term_sample, examples.length);
  const lossCfg = lossConfigOf(cfg);
  const preds = await model.predictGraphs(examples.slice(0, n).map((e) => e.input), cfg.batch_size);
  preds.forEach((p, i) => {
    const previous = { matching: matchings[i] ?? null };
    scoreStructuralTerms(p, targets[i]!, lossCfg, sums, previous);
    matchings[i] = previous.matching;
  });
}
