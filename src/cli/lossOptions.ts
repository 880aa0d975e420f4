import { defaultLossConfig, lossConfigSchema, resolveLossConfig, type LossConfig } from '../loss/config.js';
import type { OptionSpec, OptionSpecs, OptionValues } from './options.js';

const INTEGER_KEYS = new Set(['sinkhorn_iterations', 'structure_iterations', 'context_hops']);

/** `alpha` → `alpha`, `sinkhorn_iterations` → `sinkhorn-iterations`. */
export function flagName(key: string): string {
  return key.replace(/_/g, '-');
}

/** CLI options for the loss keys, generated from the config schema (defaults and help included). */
export function lossOptionSpecs(keys: ReadonlyArray<keyof LossConfig> = Object.keys(lossConfigSchema.shape) as Array<keyof LossConfig>): OptionSpecs {
  const defaults = defaultLossConfig();
  const specs: OptionSpecs = {};
  for (const key of keys) {
    const def = defaults[key];
    const help = lossConfigSchema.shape[key].description ?? key;
    let spec: OptionSpec;
    if (key === 'loss_mode') spec = { kind: 'choice', choices: ['structural', 'cross-entropy', 'hybrid'], default: def, help };
    else if (key === 'gradient') spec = { kind: 'choice', choices: ['envelope', 'unrolled'], default: def, help };
    else spec = { kind: INTEGER_KEYS.has(key) ? 'integer' : 'number', default: def, help };
    specs[flagName(key)] = spec;
  }
  return specs;
}

/** The loss config from parsed flags; range errors name the flag. */
export function lossConfigFromFlags(values: OptionValues, given: Set<string>): LossConfig {
  const partial: Record<string, unknown> = {};
  for (const key of Object.keys(lossConfigSchema.shape)) {
    const flag = flagName(key);
    if (given.has(flag)) partial[key] = values[flag];
  }
  try {
    return resolveLossConfig(partial, 'command line');
  } catch (err) {
    if (err instanceof Error) err.message = err.message.replace(/key "([a-z_]+)"/g, (_, k: string) => `--${flagName(k)}`);
    throw err;
  }
}
