import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { graphToText } from '../graph/builders.js';
import type { Example } from '../data/records.js';
import { alphabetIndex, targetFromGraph, type TargetGraph } from '../loss/softGraph.js';
import { AdamW, GraphModel, buildAlphabet, decodeSoftGraph, trainStep, type ModelSpec } from '../model/index.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { assignmentDiagnostics, batchLoss, emptySums, meanTerms, scoreExample, scoreStructuralTerms, type TermSums } from '../loss/batch.js';
import { CHECKPOINT_VERSION, readCheckpoint, writeCheckpoint, type Checkpoint, type TrainerState } from './checkpoint.js';
import { configToYaml, lossConfigOf, type TrainConfig } from './config.js';
import { buildersOf, edgeTypesOf, loadTrainingData, type TrainingData } from './data.js';
import { writeFileAtomic } from './files.js';
import { writeMetrics, type EpochMetrics, type PendingEpoch } from './metricsLog.js';
import { MonitorPool } from './monitorPool.js';
import type { MonitorResult } from './monitors.js';
import { learningRate } from './schedule.js';

/** What the loop reports to its caller while it runs (progress bar, log lines). */
export interface TrainReporter {
  /** A run starts (or resumes): a few lines about data, model and output. */
  start(info: { source: string; trainExamples: number; valExamples: number; parameters: number; outputDir: string; resumedAtEpoch: number | null; config: TrainConfig }): void;
  /** One batch done. */
  batch(info: { epoch: number; epochs: number; batch: number; batches: number; loss: number }): void;
  /** An epoch's metrics are complete (monitors included). */
  epoch(m: EpochMetrics, epochs: number): void;
  /** A message worth a line (curriculum advance, early stop, skipped steps). */
  note(text: string): void;
}

export interface TrainSummary {
  outputDir: string;
  checkpoint: string;
  epochs: number;
  stopReason: string;
  interrupted: boolean;
  parameters: number;
  metrics: EpochMetrics[];
  seconds: number;
}

const CHECKPOINT_FILE = 'checkpoint.ckpt';

/** Keys that may differ between a checkpoint and the run resuming it. */
export const RESUMABLE_KEYS: ReadonlySet<string> = new Set(['epochs', 'patience', 'output', 'threads']);

/** The model's fixed shapes for a config and its data: alphabet and edge types come from the data. */
function modelSpecFor(cfg: TrainConfig, data: TrainingData): ModelSpec {
  const all = data.stages.flatMap((s) => [...s.train, ...s.val]);
  return {
    alphabet: buildAlphabet(all.flatMap((e) => [...e.input.nodes, ...e.target.nodes].map((n) => n.label))),
    inputTypes: edgeTypesOf(all.map((e) => e.input)),
    outputTypes: edgeTypesOf(all.map((e) => e.target)),
    // K = 0 sizes the output to the data: spare slots are slots the loss must delete, and at the
    // start of training each one pushes existence down (measured: K 8 on math level 1, whose
    // targets have 1–3 nodes, collapsed to empty outputs; K 4 did not).
    K: cfg.max_nodes > 0 ? cfg.max_nodes : Math.max(1, ...all.map((e) => e.target.nodes.length)),
    d: cfg.hidden_size,
    heads: cfg.heads,
    encoderLayers: cfg.encoder_layers,
    decoderLayers: cfg.decoder_layers,
    maxPositions: cfg.max_input_nodes,
  };
}

function freshState(cfg: TrainConfig): TrainerState {
  return {
    epoch: 0, step: 0, batchInEpoch: 0, epochOrder: null, partialSums: null, partialSeconds: 0,
    rngState: new Rng(cfg.seed + 1).state, levelIndex: 0, epochsOnLevel: 0, bestValLoss: null, epochsSinceBest: 0,
    consecutiveBadSteps: 0, skippedSteps: 0, pendingMonitorEpoch: null, pendingRecord: null, finished: false, stopReason: null, matchings: [],
  };
}

/** Resolve where a --resume argument points: a checkpoint file, or a run directory holding one. */
export function checkpointPath(pathOrDir: string): string {
  // A file the user names is the checkpoint, whatever its name (a wrong one is then reported as itself).
  let isDir = false;
  try {
    isDir = statSync(pathOrDir).isDirectory();
  } catch {
    // A missing path: reported by the reader, under the name given.
  }
  return isDir ? join(pathOrDir, CHECKPOINT_FILE) : pathOrDir;
}

/** Load a checkpoint's model for evaluation or prediction. */
export function loadModel(path: string, options: { threads?: number } = {}): { ckpt: Checkpoint; model: GraphModel } {
  const ckpt = readCheckpoint(checkpointPath(path));
  let model: GraphModel;
  try {
    model = new GraphModel(ckpt.spec, ckpt.config.seed, options);
    model.importWeights(ckpt.weights);
  } catch (err) {
    throw new UserError(`${path}: checkpoint does not fit its model (${err instanceof Error ? err.message : String(err)})`);
  }
  return { ckpt, model };
}

/** Validation of one model state on a set of examples: loss terms, decoded graphs, text exact match. */
export async function validate(model: GraphModel, examples: readonly Example[], targets: readonly TargetGraph[], cfg: TrainConfig, hasTexts: boolean, batchSize: number) {
  const lossCfg = lossConfigOf(cfg);
  const builder = buildersOf(cfg).target;
  const sums = emptySums();
  let textHits = 0;
  const decoded = (await model.predictGraphs(examples.map((e) => e.input), batchSize)).map((p, i) => {
    scoreExample(p, targets[i]!, lossCfg, sums);
    const g = decodeSoftGraph(p, model.spec.alphabet, model.spec.outputTypes);
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
async function scoreTrainingSample(model: GraphModel, examples: readonly Example[], targets: readonly TargetGraph[], cfg: TrainConfig, sums: TermSums, matchings: Array<number[] | null>): Promise<void> {
  const n = Math.min(cfg.term_sample, examples.length);
  const lossCfg = lossConfigOf(cfg);
  const preds = await model.predictGraphs(examples.slice(0, n).map((e) => e.input), cfg.batch_size);
  preds.forEach((p, i) => {
    const previous = { matching: matchings[i] ?? null };
    scoreStructuralTerms(p, targets[i]!, lossCfg, sums, previous);
    matchings[i] = previous.matching;
  });
}

/**
 * The training loop: epochs of shuffled batches through the model and the loss op, validation
 * every epoch (graph monitors in a worker thread, one epoch behind at most), early stopping,
 * curriculum, metrics files and an atomic checkpoint after every epoch and on SIGINT/SIGTERM.
 */
export async function train(cfg: TrainConfig, outputDir: string, reporter: TrainReporter, resume?: Checkpoint): Promise<TrainSummary> {
  const t0 = performance.now();
  const data = loadTrainingData(cfg);
  const spec = resume ? resume.spec : modelSpecFor(cfg, data);
  const index = alphabetIndex(spec.alphabet);
  if (resume) {
    const unknown = data.stages.flatMap((s) => [...s.train, ...s.val]).flatMap((e) => e.target.nodes).find((n) => !index.has(n.label));
    if (unknown) throw new UserError(`the data has label ${JSON.stringify(unknown.label)} that the checkpoint's alphabet lacks; it was trained on other data`);
  }
  const model = new GraphModel(spec, cfg.seed, { threads: cfg.threads });
  const optimizer = new AdamW(model.params, { beta1: cfg.beta1, beta2: cfg.beta2, epsilon: cfg.adam_epsilon, weightDecay: cfg.weight_decay });
  const state: TrainerState = resume ? structuredClone(resume.trainer) : freshState(cfg);
  const metrics: EpochMetrics[] = resume ? [...resume.metrics] : [];
  if (resume) {
    model.importWeights(resume.weights);
    optimizer.importState(resume.optimizer);
  }
  try {
    mkdirSync(outputDir, { recursive: true });
  } catch (err) {
    throw new UserError(`cannot create the output directory ${outputDir} (${err instanceof Error ? err.message : String(err)})`);
  }
  const ckptPath = join(outputDir, CHECKPOINT_FILE);
  writeFileAtomic(join(outputDir, 'config.yaml'), configToYaml(cfg));
  writeMetrics(outputDir, metrics);
  const lossCfg = lossConfigOf(cfg);
  const targetsOf = (xs: readonly Example[]): TargetGraph[] => xs.map((e) => targetFromGraph(e.target, index));
  const stageTargets = data.stages.map((s) => ({ train: targetsOf(s.train), val: targetsOf(s.val) }));
  const monitors = new MonitorPool();
  const parameters = model.parameterCount();

  for (const n of data.notes) reporter.note(n);
  const summaryConfig = { ...cfg, max_nodes: spec.K };
  reporter.start({
    source: data.source, trainExamples: data.stages[state.levelIndex]!.train.length, valExamples: data.stages[state.levelIndex]!.val.length,
    parameters, outputDir, resumedAtEpoch: resume ? state.epoch : null, config: summaryConfig,
  });

  let stopSignal: string | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    // A second signal while the checkpoint is being written means "now": the writes are atomic.
    if (stopSignal) process.exit(130);
    stopSignal = sig;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let pending: { record: PendingEpoch; promise: Promise<MonitorResult> } | null = null;
  const monitorPairs = (decoded: Example['target'][], val: readonly Example[]) => decoded.slice(0, cfg.monitor_examples).map((pred, i) => ({ pred, target: val[i]!.target }));
  const finishPending = async (): Promise<void> => {
    if (!pending) return;
    const { record, promise } = pending;
    const r = await promise;
    pending = null;
    const v = record.val;
    // Built in the key order of the published shape: epoch, train, val, lr, examplesPerSecond, seconds, then extras.
    const ordered: EpochMetrics = {
      epoch: record.epoch, train: record.train,
      val: { loss: v.loss, node: v.node, edge: v.edge, clique: v.clique, ce: v.ce, exactMatch: r.exactMatch, ged: r.ged, wl: r.wl, textExactMatch: v.textExactMatch, gedLowerBound: r.gedLowerBound, gedExactFraction: r.gedExactFraction, examples: r.examples, exactMatchBySize: r.exactMatchBySize },
      lr: record.lr, examplesPerSecond: record.examplesPerSecond, seconds: record.seconds, level: record.level, skippedSteps: record.skippedSteps, sinkhornUnconverged: record.sinkhornUnconverged,
      roundingGap: record.roundingGap, matchingsChanged: record.matchingsChanged, structuralTermsOn: record.structuralTermsOn,
    };
    metrics.push(ordered);
    state.pendingMonitorEpoch = null;
    state.pendingRecord = null;
    writeMetrics(outputDir, metrics);
    reporter.epoch(ordered, cfg.epochs);
  };
  const save = (): void => {
    writeCheckpoint(ckptPath, {
      format: 'grapheme-checkpoint', version: CHECKPOINT_VERSION, createdAt: new Date().toISOString(), config: cfg, spec,
      weights: model.exportWeights(), optimizer: optimizer.exportState(), trainer: state, metrics,
    });
  };
  /** Validate the current model, record the epoch's known part and send its graphs to the monitors. */
  const validateEpoch = async (record: Omit<PendingEpoch, 'val'>): Promise<PendingEpoch> => {
    const stage = data.stages[state.levelIndex]!;
    const v = await validate(model, stage.val, stageTargets[state.levelIndex]!.val, cfg, data.hasTexts, cfg.batch_size);
    const full: PendingEpoch = { ...record, val: { ...meanTerms(v.sums), textExactMatch: v.textExactMatch } };
    pending = { record: full, promise: monitors.run({ epoch: record.epoch, pairs: monitorPairs(v.decoded, stage.val), gedTimeoutMs: cfg.ged_timeout_ms, wlIterations: cfg.wl_iterations }) };
    return full;
  };

  // A checkpoint written between an epoch and its monitors: redo that epoch's validation (the
  // model state is the same, so the numbers are too) and let the monitors finish it.
  if (resume && state.pendingMonitorEpoch !== null && state.pendingRecord) {
    const { val: _val, ...known } = state.pendingRecord;
    state.pendingRecord = await validateEpoch(known);
  }

  const stepsPerEpoch = (): number => Math.ceil(data.stages[state.levelIndex]!.train.length / cfg.batch_size);
  const totalSteps = cfg.epochs * stepsPerEpoch();
  let interrupted = false;
  try {
    while (state.epoch < cfg.epochs && !state.finished) {
      const stage = data.stages[state.levelIndex]!;
      const targets = stageTargets[state.levelIndex]!.train;
      const rng = new Rng(0);
      rng.state = state.rngState;
      if (state.batchInEpoch === 0 || !state.epochOrder) {
        state.epochOrder = rng.shuffle(stage.train.map((_, i) => i));
        state.rngState = rng.state;
        state.partialSums = emptySums();
        state.partialSeconds = 0;
      }
      const order = state.epochOrder;
      // Sums saved before structuralCount existed scored every term on every example.
      if (state.partialSums && state.partialSums.structuralCount === undefined) state.partialSums.structuralCount = state.partialSums.count;
      const sums: TermSums = state.partialSums ?? emptySums();
      const batches = stepsPerEpoch();
      let skippedThisEpoch = 0;
      let lr = learningRate(state.step, totalSteps, cfg.lr, cfg.warmup_steps, cfg.min_lr_ratio);
      while (state.batchInEpoch < batches) {
        const tb = performance.now();
        const idx = order.slice(state.batchInEpoch * cfg.batch_size, (state.batchInEpoch + 1) * cfg.batch_size);
        lr = learningRate(state.step, totalSteps, cfg.lr, cfg.warmup_steps, cfg.min_lr_ratio);
        const before = { ...sums };
        const previous = idx.map((i) => ({ matching: state.matchings[i] ?? null }));
        const outcome = await trainStep(model, optimizer, model.encode(idx.map((i) => stage.train[i]!.input)), batchLoss(idx.map((i) => targets[i]!), lossCfg, sums, previous, false), lr, cfg.grad_clip);
        if (!outcome.skipped) idx.forEach((i, b) => (state.matchings[i] = previous[b]!.matching));
        if (outcome.skipped) {
          // The batch's terms are not part of the epoch's means: no update was made from them.
          Object.assign(sums, before);
          state.consecutiveBadSteps++;
          state.skippedSteps++;
          skippedThisEpoch++;
          reporter.note(`step ${state.step + 1}: non-finite ${Number.isFinite(outcome.loss) ? 'gradient' : 'loss'}, update skipped (${state.consecutiveBadSteps} in a row)`);
          if (state.consecutiveBadSteps >= cfg.max_bad_steps) {
            state.finished = true;
            state.stopReason = `stopped after ${state.consecutiveBadSteps} consecutive steps with a non-finite loss or gradient; the checkpoint holds the last good weights`;
            break;
          }
        } else {
          state.consecutiveBadSteps = 0;
          state.step++;
        }
        state.batchInEpoch++;
        state.partialSeconds += (performance.now() - tb) / 1000;
        reporter.batch({ epoch: state.epoch + 1, epochs: cfg.epochs, batch: state.batchInEpoch, batches, loss: sums.loss / Math.max(1, sums.count) });
        // Yield so that signals and the monitor worker's replies are handled between batches.
        await new Promise((r) => setImmediate(r));
        if (stopSignal) break;
      }
      if (stopSignal && state.batchInEpoch < batches) {
        await finishPending();
        save();
        interrupted = true;
        state.stopReason = `interrupted by ${stopSignal} in epoch ${state.epoch + 1} (batch ${state.batchInEpoch} of ${batches})`;
        break;
      }
      if (state.finished && state.batchInEpoch < batches) {
        await finishPending();
        save();
        break;
      }
      // The epoch is complete.
      const trainSeconds = state.partialSeconds;
      const ts = performance.now();
      const onBatches = sums.structuralCount === sums.count;
      const structural = onBatches ? sums : emptySums();
      if (!onBatches) await scoreTrainingSample(model, stage.train, targets, cfg, structural, state.matchings);
      const { node, edge, clique } = meanTerms(structural);
      const record: Omit<PendingEpoch, 'val'> = {
        epoch: state.epoch + 1,
        train: { ...meanTerms(sums), node, edge, clique },
        lr,
        examplesPerSecond: sums.count / Math.max(1e-9, trainSeconds),
        seconds: trainSeconds + (performance.now() - ts) / 1000,
        level: stage.level,
        skippedSteps: skippedThisEpoch,
        sinkhornUnconverged: structural.unconverged / Math.max(1, structural.structuralCount),
        ...assignmentDiagnostics(structural),
        structuralTermsOn: { examples: structural.structuralCount, sample: !onBatches },
      };
      state.epoch++;
      state.epochsOnLevel++;
      state.batchInEpoch = 0;
      state.epochOrder = null;
      state.partialSums = null;
      state.partialSeconds = 0;
      await finishPending();
      const tv = performance.now();
      const pendingRecord = await validateEpoch({ ...record });
      pendingRecord.seconds += (performance.now() - tv) / 1000;
      state.pendingRecord = pendingRecord;
      state.pendingMonitorEpoch = record.epoch;
      // Early stopping on the validation loss of the trained mode.
      const valLoss = pendingRecord.val.loss;
      if (state.bestValLoss === null || valLoss < state.bestValLoss - 1e-12) {
        state.bestValLoss = valLoss;
        state.epochsSinceBest = 0;
      } else state.epochsSinceBest++;
      if (cfg.patience > 0 && state.epochsSinceBest >= cfg.patience) {
        state.finished = true;
        state.stopReason = `early stop: no better validation loss for ${cfg.patience} epochs (best ${state.bestValLoss.toPrecision(5)})`;
      }
      // Curriculum: advance when validation exact match reaches the threshold on this level.
      const match = pendingRecord.val.textExactMatch;
      if (data.stages.length > 1 && state.levelIndex < data.stages.length - 1 && state.epochsOnLevel >= cfg.min_epochs_per_level && match !== null && match >= cfg.advance_threshold) {
        state.levelIndex++;
        state.epochsOnLevel = 0;
        state.matchings = [];
        reporter.note(`curriculum: level ${data.stages[state.levelIndex - 1]!.level} reached exact match ${match.toFixed(3)}; advancing to level ${data.stages[state.levelIndex]!.level}`);
      }
      save();
      if (stopSignal) {
        interrupted = true;
        state.stopReason = `interrupted by ${stopSignal} after epoch ${state.epoch}`;
        break;
      }
    }
    await finishPending();
    if (!interrupted) {
      if (!state.stopReason) state.stopReason = `completed ${state.epoch} epochs`;
      state.finished = state.finished || state.epoch >= cfg.epochs;
    }
    save();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await monitors.close();
    await model.dispose();
  }
  if (state.stopReason) reporter.note(state.stopReason);
  return { outputDir, checkpoint: ckptPath, epochs: state.epoch, stopReason: state.stopReason ?? '', interrupted, parameters, metrics, seconds: (performance.now() - t0) / 1000 };
}
