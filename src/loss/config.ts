import { z } from 'zod';
import { UserError } from '../util/errors.js';

export const LOSS_MODES = ['structural', 'cross-entropy', 'hybrid'] as const;
export type LossMode = (typeof LOSS_MODES)[number];
export const GRADIENT_MODES = ['envelope', 'unrolled'] as const;
export const COST_FORMS = ['likelihood', 'expected'] as const;
export const ASSIGNMENTS = ['soft', 'hard'] as const;

/** The loss keys of the config, with the defaults of `grapheme loss` (docs/loss.md §8). */
export const lossConfigSchema = z
  .object({
    loss_mode: z.enum(LOSS_MODES).default('structural').describe('structural | cross-entropy | hybrid'),
    cost_form: z.enum(COST_FORMS).default('expected').describe('likelihood (each edit priced by −log of the prediction that avoids it) | expected (priced linearly: the edit-path cost in the crisp limit)'),
    alpha: z.number().min(0).default(1.0).describe('weight of the node term'),
    beta: z.number().min(0).default(0.5).describe('weight of the edge term'),
    gamma: z.number().min(0).default(2.0).describe('weight of the clique (triangle) term'),
    node_insertion_cost: z.number().min(0).default(1.0).describe('cost of inserting a node'),
    node_deletion_cost: z.number().min(0).default(1.0).describe('cost of deleting a node'),
    edge_insertion_cost: z.number().min(0).default(1.0).describe('cost of inserting an edge'),
    edge_deletion_cost: z.number().min(0).default(1.0).describe('cost of deleting an edge'),
    sinkhorn_iterations: z.number().int().min(1).max(100_000).default(20).describe('Sinkhorn iteration cap'),
    sinkhorn_temperature: z.number().gt(0).default(0.1).describe('Sinkhorn temperature τ, in cost units'),
    sinkhorn_tolerance: z.number().gt(0).default(1e-6).describe('stop once the marginal error ‖P·1 − a‖₁ is below this'),
    structure_iterations: z.number().int().min(1).max(100).default(3).describe('assignment refinements on the whole objective'),
    context_hops: z.number().int().min(0).max(10).default(3).describe('hops of neighbour labels in the matching cost'),
    context_weight: z.number().min(0).default(0.5).describe('weight of the neighbour-label context in the matching cost'),
    assignment: z.enum(ASSIGNMENTS).default('soft').describe('soft (the Sinkhorn plan) | hard (that plan rounded to the nearest edit path, as DETR trains)'),
    position_weight: z.number().min(0).default(1.0).describe('weight of the slot positions (predicted rank vs the rank a target node\'s edges give it) in the matching and the node term, for a target node whose label another node of its target shares; used where both exist'),
    position_weight_unique: z.number().min(0).default(1.0).describe('the same weight for a target node whose label no other node of its target has (its label tells it apart)'),
    gradient: z.enum(GRADIENT_MODES).default('envelope').describe('envelope (plan held fixed) | unrolled (through the Sinkhorn iterations)'),
    hybrid_lambda: z.number().min(0).max(1).default(0.5).describe('hybrid mode: λ·structural + (1−λ)·cross-entropy'),
  })
  .strict();

export type LossConfig = z.infer<typeof lossConfigSchema>;

/** The default loss config. */
export function defaultLossConfig(): LossConfig {
  return lossConfigSchema.parse({});
}

/** Turn zod issues into one line that names each bad key. */
export function formatIssues(error: z.ZodError, where: string): string {
  const parts = error.issues.map((iss) => {
    if (iss.code === 'unrecognized_keys') return `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `"${[...iss.path, k].join('.')}"`).join(', ')}`;
    const key = iss.path.join('.');
    return `${key ? `key "${key}": ` : ''}${iss.message}`;
  });
  return `${where}: ${parts.join('; ')}`;
}

/** Validate a partial loss config over the defaults; errors name the key. */
export function resolveLossConfig(partial: Record<string, unknown> = {}, where = 'loss config'): LossConfig {
  const r = lossConfigSchema.safeParse(partial);
  if (!r.success) throw new UserError(formatIssues(r.error, where));
  return r.data;
}

/**
 * Loss keys whose training default differs from the `grapheme loss` one (docs/loss.md §8);
 * docs/experiments.md has every run behind them.
 * - cost_form likelihood: the expected form's costs are linear in the probabilities, so their
 *   gradient vanishes where a prediction is confidently wrong; the sparse sequential edges went to
 *   p ≈ 0 in the first epoch and never came back (reverse: exact match 0). The likelihood form
 *   gives the logits p − y, as cross-entropy does.
 * - assignment hard: the loss at the nearest edit path to the soft plan, as DETR and Any2Graph
 *   train. The soft plan blurs each target over several slots; hard, reverse reached exact match
 *   0.955 at epoch 5 against 0.340 soft, shuffled reverse 1.000 against 0.690, the shuffled trees
 *   0.706 against 0.412 (seed 1 each).
 * - node_insertion_cost 2, sinkhorn_temperature 0.01, sinkhorn_iterations 50, gamma 0.5: at the
 *   design's unit costs the expected form drove every slot's existence to zero within one epoch
 *   (a missed node costing twice a spurious one keeps slots alive, as DETR down-weights "no
 *   object"); a sharper assignment lets slots specialise; a lighter clique weight stops the
 *   symmetric triangle term from overriding edge directions.
 * - position_weight_unique 0.1: ranks tell equal labels apart; where a target node's label is its
 *   own, its rank only breaks ties. The matching prices a slot's rank by up to w, a label by up to
 *   1; at w 1 the rank prior's preference (slot k for rank k) decided the matching before the
 *   labels could, and outputs shorter than their inputs were packed to the front as cross-entropy
 *   packs them (a phone doubled in 29 % of pronunciations). At 0.1 a slot seeded from a silent
 *   letter is deleted in place and the others keep their letters. Repeated labels keep w 1: at 0.1
 *   for every node, reverse at 24–32 never settled (matchings changed 1.000 each epoch).
 */
const TRAINING_LOSS_DEFAULTS = {
  cost_form: 'likelihood',
  assignment: 'hard',
  node_insertion_cost: 2,
  sinkhorn_temperature: 0.01,
  sinkhorn_iterations: 50,
  gamma: 0.5,
  position_weight_unique: 0.1,
} as const;

const lossShapeForTraining = Object.fromEntries(
  Object.entries(lossConfigSchema.shape).map(([k, field]) => {
    const d = TRAINING_LOSS_DEFAULTS[k as keyof typeof TRAINING_LOSS_DEFAULTS];
    if (d === undefined) return [k, field];
    const inner = (field as unknown as z.ZodDefault<z.ZodType>).unwrap();
    return [k, inner.default(d).describe(`${field.description ?? k} (training default; the loss command's is ${String((field as z.ZodType).parse(undefined))})`)];
  }),
) as typeof lossConfigSchema.shape;

/** The loss keys with their training defaults: what `grapheme train` and the tfjs loss op use. */
export const trainingLossConfigSchema = z.object(lossShapeForTraining).strict();

/** Validate a partial loss config over the training defaults; errors name the key. */
export function resolveTrainingLossConfig(partial: Record<string, unknown> = {}, where = 'loss config'): LossConfig {
  const r = trainingLossConfigSchema.safeParse(partial);
  if (!r.success) throw new UserError(formatIssues(r.error, where));
  return r.data as LossConfig;
}
