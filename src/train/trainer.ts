import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Example } from '../data/records.js';
import { edgeTypesOf, isUndirected } from '../graph/types.js';
import { MAX_EDGE_TYPES } from '../metrics/ged.js';
import { assignmentDiagnostics, batchLoss, emptySums, meanTerms, sharedBatchLoss, type TermSums } from '../loss/batch.js';
import type { LossConfig } from '../loss/config.js';
import { alphabetIndex, targetFromGraph, type TargetGraph } from '../loss/softGraph.js';
import { AdamW, GraphModel, buildAlphabet, trainStep, type ModelSpec } from '../model/index.js';
import { UserError } from '../util/errors.js';
import { Rng, hashString } from '../util/rng.js';
import { CHECKPOINT_VERSION, readCheckpoint, writeCheckpoint, type Checkpoint, type TrainerState } from './checkpoint.js';
import { configToYaml, lossConfigOf, type TrainConfig } from './config.js';
import { loadTrainingData, type TrainingData } from './data.js';
import { writeFileAtomic } from './files.js';
import { completeEpoch, writeMetrics, type EpochMetrics, type PendingEpoch } from './metricsLog.js';
import { LossHelper } from './lossHelper.js';
import { MonitorPool } from './monitorPool.js';
import type { MonitorResult } from './monitors.js';
import { learningRate } from './schedule.js';
import { watchStopSignals, type StopSignals } from './signals.js';
import { scoreTrainingSample, validate } from './validation.js';

export { validate } from './validation.js';

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
  /** The model reads texts (`grapheme predict TEXT` applies); false where its inputs are graphs. */
  textInputs: boolean;
}

const CHECKPOINT_FILE = 'checkpoint.ckpt';

/** Keys that may differ between a checkpoint and the run resuming it. */
export const RESUMABLE_KEYS: ReadonlySet<string> = new Set(['epochs', 'patience', 'output', 'threads', 'loss_threads']);

/** The model's fixed shapes for a config and its data: alphabet and edge types come from the data. */
function modelSpecFor(cfg: TrainConfig, data: TrainingData): ModelSpec {
  const all = data.stages.flatMap((s) => [...s.train, ...s.val]);
  const outputTypes = edgeTypesOf(all.map((e) => e.target));
  // Refused here rather than at the first validation, where the GED monitor would stop the run.
  if (outputTypes.length > MAX_EDGE_TYPES) throw new UserError(`the targets use ${outputTypes.length} edge types; the GED monitors handle at most ${MAX_EDGE_TYPES}`);
  return {
    alphabet: buildAlphabet(all.flatMap((e) => [...e.input.nodes, ...e.target.nodes].map((n) => n.label))),
    inputTypes: edgeTypesOf(all.map((e) => e.input)),
    outputTypes,
    // K = 0 sizes the output to the data: spare slots are slots the loss must delete, and at the
    // start of training each one pushes existence down (measured: K 8 on math level 1, whose
    // targets have 1–3 nodes, collapsed to empty outputs; K 4 did not).
    K: cfg.max_nodes > 0 ? cfg.max_nodes : Math.max(1, ...all.map((e) => e.target.nodes.length)),
    d: cfg.hidden_size,
    heads: cfg.heads,
    encoderLayers: cfg.encoder_layers,
    decoderLayers: cfg.decoder_layers,
    maxPositions: cfg.max_input_nodes,
    ...undirectedTargets(all),
    ...(cfg.edge_copy ? { edgeCopy: true } : {}),
    ...(cfg.rank_prior > 0 ? { rankPrior: cfg.rank_prior } : {}),
    ...(cfg.end_positions ? { endPositions: true } : {}),
    ...(cfg.rank_detached ? { rankDetached: true } : {}),
    ...(cfg.count_attention ? { countAttention: true } : {}),
  };
}

/** `undirectedOutput` when every target is undirected; a mix of directed and undirected targets is refused. */
function undirectedTargets(examples: readonly Example[]): { undirectedOutput?: true } {
  // A tiny dataset validates on its training records too: each record counts once.
  const targets = [...new Map(examples.map((e) => [e.id, e.target])).values()];
  const undirected = targets.filter(isUndirected).length;
  if (undirected === 0) return {};
  if (undirected < targets.length) throw new UserError(`the targets mix directed and undirected graphs (${undirected} of ${targets.length} have "directed": false); a model predicts one kind`);
  return { undirectedOutput: true };
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

/**
 * The training loop: epochs of shuffled batches through the model and the loss, validation every
 * epoch (graph monitors in a worker thread, one epoch behind at most), early stopping,
 * curriculum, metrics files and an atomic checkpoint after every epoch and on SIGINT/SIGTERM.
 */
export async function train(cfg: TrainConfig, outputDir: string, reporter: TrainReporter, resume?: Checkpoint): Promise<TrainSummary> {
  const t0 = performance.now();
  const run = TrainingRun.open(cfg, outputDir, reporter, resume);
  const signals = watchStopSignals();
  let interrupted = false;
  try {
    await run.redoPendingValidation();
    while (run.hasEpochsLeft()) {
      const complete = await run.trainEpoch(signals);
      if (!complete) {
        interrupted = await run.stopMidEpoch(signals.received);
        break;
      }
      await run.endEpoch();
      run.save();
      if (signals.received) {
        interrupted = true;
        run.state.stopReason = `interrupted by ${signals.received} after epoch ${run.state.epoch}`;
        break;
      }
    }
    await run.finishPending();
    if (!interrupted) run.markCompleted();
    run.save();
  } finally {
    signals.dispose();
    await run.close();
  }
  const { state } = run;
  if (state.stopReason) reporter.note(state.stopReason);
  return { outputDir, checkpoint: run.ckptPath, epochs: state.epoch, stopReason: state.stopReason ?? '', interrupted, parameters: run.parameters, metrics: run.metrics, seconds: (performance.now() - t0) / 1000, textInputs: run.textInputs };
}

/**
 * The fewest output slots at which the loss helper thread pays (bench/step, batch 32): at K 6 the
 * hand-off cost more than half a batch's loss (step 12.8 → 14.0 ms), at K 16 it saved 64.5 →
 * 50.4 ms and at K 32 116 → 82 ms (docs/experiments.md §16).
 */
export const HELPER_MIN_SLOTS = 10;

/** One run's state while it trains: data, model, optimiser, trainer state, metrics and the epoch awaiting its monitors. */
class TrainingRun {
  readonly ckptPath: string;
  readonly parameters: number;
  /** The schedule's length in steps, fixed by the level the run starts (or resumes) on. */
  private readonly totalSteps: number;
  private readonly lossCfg: LossConfig;
  private readonly targets: Array<{ train: TargetGraph[]; val: TargetGraph[] }>;
  private readonly monitors = new MonitorPool();
  /** Half of each batch's loss on a second thread; only where the training loss is structural (cross-entropy's is cheap). */
  private readonly lossHelper: LossHelper | null;
  private pending: { record: PendingEpoch; promise: Promise<MonitorResult> } | null = null;

  private constructor(
    private readonly cfg: TrainConfig,
    private readonly outputDir: string,
    private readonly reporter: TrainReporter,
    private readonly data: TrainingData,
    private readonly spec: ModelSpec,
    private readonly model: GraphModel,
    private readonly optimizer: AdamW,
    readonly state: TrainerState,
    readonly metrics: EpochMetrics[],
  ) {
    this.ckptPath = join(outputDir, CHECKPOINT_FILE);
    this.parameters = model.parameterCount();
    this.lossCfg = lossConfigOf(cfg);
    this.lossHelper = cfg.loss_threads > 1 && cfg.loss_mode !== 'cross-entropy' && spec.K >= HELPER_MIN_SLOTS ? new LossHelper(this.lossCfg) : null;
    const index = alphabetIndex(spec.alphabet);
    const targetsOf = (xs: readonly Example[]): TargetGraph[] => xs.map((e) => targetFromGraph(e.target, index));
    this.targets = data.stages.map((s) => ({ train: targetsOf(s.train), val: targetsOf(s.val) }));
    this.totalSteps = cfg.epochs * this.stepsPerEpoch();
  }

  /** Load the data, build (or restore) model and optimiser, create the output directory with its config and metrics files, and report the start. */
  static open(cfg: TrainConfig, outputDir: string, reporter: TrainReporter, resume?: Checkpoint): TrainingRun {
    const data = loadTrainingData(cfg);
    const spec = resume ? resume.spec : modelSpecFor(cfg, data);
    if (resume) {
      const index = alphabetIndex(spec.alphabet);
      const unknown = data.stages.flatMap((s) => [...s.train, ...s.val]).flatMap((e) => e.target.nodes).find((n) => !index.has(n.label));
      if (unknown) throw new UserError(`the data has label ${JSON.stringify(unknown.label)} that the checkpoint's alphabet lacks; it was trained on other data`);
    }
    const model = new GraphModel(spec, cfg.seed, { threads: cfg.threads, dropout: cfg.dropout, dropoutSites: cfg.dropout_sites });
    const optimizer = new AdamW(model.params, { beta1: cfg.beta1, beta2: cfg.beta2, epsilon: cfg.adam_epsilon, weightDecay: cfg.weight_decay });
    if (resume) {
      model.importWeights(resume.weights);
      optimizer.importState(resume.optimizer);
    }
    const state = resume ? structuredClone(resume.trainer) : freshState(cfg);
    const metrics = resume ? [...resume.metrics] : [];
    try {
      mkdirSync(outputDir, { recursive: true });
    } catch (err) {
      throw new UserError(`cannot create the output directory ${outputDir} (${err instanceof Error ? err.message : String(err)})`);
    }
    writeFileAtomic(join(outputDir, 'config.yaml'), configToYaml(cfg));
    writeMetrics(outputDir, metrics);
    const run = new TrainingRun(cfg, outputDir, reporter, data, spec, model, optimizer, state, metrics);
    for (const n of data.notes) reporter.note(n);
    const stage = data.stages[state.levelIndex]!;
    reporter.start({
      source: data.source, trainExamples: stage.train.length, valExamples: stage.val.length,
      parameters: run.parameters, outputDir, resumedAtEpoch: resume ? state.epoch : null, config: { ...cfg, max_nodes: spec.K },
    });
    return run;
  }

  private get stage() {
    return this.data.stages[this.state.levelIndex]!;
  }

  private stepsPerEpoch(): number {
    return Math.ceil(this.stage.train.length / this.cfg.batch_size);
  }

  hasEpochsLeft(): boolean {
    return this.state.epoch < this.cfg.epochs && !this.state.finished;
  }

  /**
   * A checkpoint written between an epoch and its monitors: redo that epoch's validation (the
   * model state is the same, so the numbers are too) and let the monitors finish it.
   */
  async redoPendingValidation(): Promise<void> {
    if (this.state.pendingMonitorEpoch === null || !this.state.pendingRecord) return;
    const { val: _val, ...known } = this.state.pendingRecord;
    this.state.pendingRecord = await this.validateEpoch(known);
  }

  /**
   * Train the rest of the current epoch, batch by batch. Returns false when it stopped early: a
   * stop signal, or too many non-finite steps in a row (then `state.finished` is set).
   */
  async trainEpoch(signals: StopSignals): Promise<boolean> {
    const { state, cfg } = this;
    if (state.batchInEpoch === 0 || !state.epochOrder) {
      const rng = new Rng(0);
      rng.state = state.rngState;
      state.epochOrder = rng.shuffle(this.stage.train.map((_, i) => i));
      state.rngState = rng.state;
      state.partialSums = emptySums();
      state.partialSeconds = 0;
    }
    // Sums saved before structuralCount existed scored every term on every example.
    if (state.partialSums && state.partialSums.structuralCount === undefined) state.partialSums.structuralCount = state.partialSums.count;
    const sums: TermSums = state.partialSums ?? emptySums();
    const batches = this.stepsPerEpoch();
    const totalSteps = this.totalSteps;
    let lr = learningRate(state.step, totalSteps, cfg.lr, cfg.warmup_steps, cfg.min_lr_ratio);
    let skipped = 0;
    while (state.batchInEpoch < batches) {
      const tb = performance.now();
      lr = learningRate(state.step, totalSteps, cfg.lr, cfg.warmup_steps, cfg.min_lr_ratio);
      if (!(await this.trainBatch(state.epochOrder.slice(state.batchInEpoch * cfg.batch_size, (state.batchInEpoch + 1) * cfg.batch_size), sums, lr))) skipped++;
      // Too many non-finite steps in a row: the batch that ended it is not counted as trained.
      if (state.finished) return false;
      state.batchInEpoch++;
      state.partialSeconds += (performance.now() - tb) / 1000;
      this.reporter.batch({ epoch: state.epoch + 1, epochs: cfg.epochs, batch: state.batchInEpoch, batches, loss: sums.loss / Math.max(1, sums.count) });
      // Yield so that signals and the monitor worker's replies are handled between batches.
      await new Promise((r) => setImmediate(r));
      if (signals.received) return state.batchInEpoch >= batches ? this.recordEpoch(sums, lr, skipped) : false;
    }
    return this.recordEpoch(sums, lr, skipped);
  }

  /** One optimiser step on the examples `idx`; false when it was skipped for a non-finite loss or gradient. */
  private async trainBatch(idx: number[], sums: TermSums, lr: number): Promise<boolean> {
    const { state, cfg, model } = this;
    const before = { ...sums };
    const previous = idx.map((i) => ({ matching: state.matchings[i] ?? null }));
    const targets = idx.map((i) => this.targets[state.levelIndex]!.train[i]!);
    const lossFn = this.lossHelper ? sharedBatchLoss(targets, this.lossCfg, sums, previous, false, this.lossHelper.score) : batchLoss(targets, this.lossCfg, sums, previous, false);
    const outcome = await trainStep(model, this.optimizer, model.encode(idx.map((i) => this.stage.train[i]!.input)), lossFn, lr, cfg.grad_clip, hashString(`dropout ${cfg.seed} ${state.step}`));
    if (!outcome.skipped) {
      idx.forEach((i, b) => (state.matchings[i] = previous[b]!.matching));
      state.consecutiveBadSteps = 0;
      state.step++;
      return true;
    }
    // The batch's terms are not part of the epoch's means: no update was made from them.
    Object.assign(sums, before);
    state.consecutiveBadSteps++;
    state.skippedSteps++;
    this.reporter.note(`step ${state.step + 1}: non-finite ${Number.isFinite(outcome.loss) ? 'gradient' : 'loss'}, update skipped (${state.consecutiveBadSteps} in a row)`);
    if (state.consecutiveBadSteps >= cfg.max_bad_steps) {
      state.finished = true;
      state.stopReason = `stopped after ${state.consecutiveBadSteps} consecutive steps with a non-finite loss or gradient; the checkpoint holds the last good weights`;
    }
    return false;
  }

  private epochRecord: Omit<PendingEpoch, 'val'> | null = null;

  /** Close a fully trained epoch's training part: its record (structural terms from the sample when the steps skipped them) and the state of the next epoch. */
  private async recordEpoch(sums: TermSums, lr: number, skippedSteps: number): Promise<true> {
    const { state } = this;
    const trainSeconds = state.partialSeconds;
    const ts = performance.now();
    const onBatches = sums.structuralCount === sums.count;
    const structural = onBatches ? sums : emptySums();
    if (!onBatches) await scoreTrainingSample(this.model, this.stage.train, this.targets[state.levelIndex]!.train, this.cfg, structural, state.matchings);
    const { node, edge, clique } = meanTerms(structural);
    this.epochRecord = {
      epoch: state.epoch + 1,
      train: { ...meanTerms(sums), node, edge, clique },
      lr,
      examplesPerSecond: sums.count / Math.max(1e-9, trainSeconds),
      seconds: trainSeconds + (performance.now() - ts) / 1000,
      level: this.stage.level,
      skippedSteps,
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
    return true;
  }

  /** After a complete epoch: validate (monitors start in the worker), then early stopping and the curriculum. */
  async endEpoch(): Promise<void> {
    const record = this.epochRecord!;
    this.epochRecord = null;
    await this.finishPending();
    const tv = performance.now();
    const pendingRecord = await this.validateEpoch({ ...record });
    pendingRecord.seconds += (performance.now() - tv) / 1000;
    this.state.pendingRecord = pendingRecord;
    this.state.pendingMonitorEpoch = record.epoch;
    this.checkEarlyStop(pendingRecord.val.loss);
    this.advanceCurriculum(pendingRecord.val.textExactMatch);
  }

  /** Early stopping on the validation loss of the trained mode. */
  private checkEarlyStop(valLoss: number): void {
    const { state, cfg } = this;
    if (state.bestValLoss === null || valLoss < state.bestValLoss - 1e-12) {
      state.bestValLoss = valLoss;
      state.epochsSinceBest = 0;
    } else state.epochsSinceBest++;
    if (cfg.patience > 0 && state.epochsSinceBest >= cfg.patience) {
      state.finished = true;
      state.stopReason = `early stop: no better validation loss for ${cfg.patience} epochs (best ${state.bestValLoss.toPrecision(5)})`;
    }
  }

  /** Curriculum: advance when validation exact match reaches the threshold on this level. */
  private advanceCurriculum(match: number | null): void {
    const { state, cfg, data } = this;
    if (data.stages.length > 1 && state.levelIndex < data.stages.length - 1 && state.epochsOnLevel >= cfg.min_epochs_per_level && match !== null && match >= cfg.advance_threshold) {
      state.levelIndex++;
      state.epochsOnLevel = 0;
      state.matchings = [];
      this.reporter.note(`curriculum: level ${data.stages[state.levelIndex - 1]!.level} reached exact match ${match.toFixed(3)}; advancing to level ${data.stages[state.levelIndex]!.level}`);
    }
  }

  /** An epoch left unfinished (signal or non-finite steps): checkpoint where it stands. True when a signal stopped it. */
  async stopMidEpoch(signal: NodeJS.Signals | null): Promise<boolean> {
    await this.finishPending();
    this.save();
    if (!signal) return false;
    this.state.stopReason = `interrupted by ${signal} in epoch ${this.state.epoch + 1} (batch ${this.state.batchInEpoch} of ${this.stepsPerEpoch()})`;
    return true;
  }

  /** A run that was not interrupted ends here: completed, or stopped for a reason already given. */
  markCompleted(): void {
    if (!this.state.stopReason) this.state.stopReason = `completed ${this.state.epoch} epochs`;
    this.state.finished = this.state.finished || this.state.epoch >= this.cfg.epochs;
  }

  /** Validate the current model, record the epoch's known part and send its graphs to the monitors. */
  private async validateEpoch(record: Omit<PendingEpoch, 'val'>): Promise<PendingEpoch> {
    const { cfg, stage } = this;
    const v = await validate(this.model, stage.val, this.targets[this.state.levelIndex]!.val, cfg, this.data.hasTexts, cfg.batch_size);
    const full: PendingEpoch = { ...record, val: { ...meanTerms(v.sums), textExactMatch: v.textExactMatch } };
    const pairs = v.decoded.slice(0, cfg.monitor_examples).map((pred, i) => ({ pred, target: stage.val[i]!.target }));
    this.pending = { record: full, promise: this.monitors.run({ epoch: record.epoch, pairs, gedTimeoutMs: cfg.ged_timeout_ms, wlIterations: cfg.wl_iterations }) };
    return full;
  }

  /** Wait for the epoch awaiting its monitors, then log it: metrics files and the reporter. */
  async finishPending(): Promise<void> {
    if (!this.pending) return;
    const { record, promise } = this.pending;
    const r = await promise;
    this.pending = null;
    const full = completeEpoch(record, r);
    this.metrics.push(full);
    this.state.pendingMonitorEpoch = null;
    this.state.pendingRecord = null;
    writeMetrics(this.outputDir, this.metrics);
    this.reporter.epoch(full, this.cfg.epochs);
  }

  /** Write the checkpoint atomically: config, model, optimiser, trainer state and metrics. */
  save(): void {
    writeCheckpoint(this.ckptPath, {
      format: 'grapheme-checkpoint', version: CHECKPOINT_VERSION, createdAt: new Date().toISOString(), config: this.cfg, spec: this.spec,
      weights: this.model.exportWeights(), optimizer: this.optimizer.exportState(), trainer: this.state, metrics: this.metrics,
    });
  }

  get textInputs(): boolean {
    return this.data.stages.every((st) => st.train.every((e) => e.inputText !== undefined));
  }

  async close(): Promise<void> {
    await this.monitors.close();
    await this.lossHelper?.close();
    await this.model.dispose();
  }
}
