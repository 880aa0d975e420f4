import { lossConfigSchema, resolveLossConfig, type LossConfig } from '../loss/config.js';
import type { OptionSpecs, OptionValues } from './options.js';
import { nameFlagsInMessage, optionSpecsFromSchema, partialFromFlags } from './schemaOptions.js';

/** CLI options for the loss keys, generated from the config schema (defaults and help included). */
export function lossOptionSpecs(): OptionSpecs {
  return optionSpecsFromSchema(lossConfigSchema);
}

/** The loss config from parsed flags; range errors name the flag. */
export function lossConfigFromFlags(values: OptionValues, given: Set<string>): LossConfig {
  try {
    return resolveLossConfig(partialFromFlags(lossConfigSchema, values, given), 'command line');
  } catch (err) {
    if (err instanceof Error) err.message = nameFlagsInMessage(err.message);
    throw err;
  }
}
