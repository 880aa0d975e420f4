import type { z } from 'zod';
import type { OptionSpec, OptionSpecs, OptionValues } from './options.js';

/** `sinkhorn_iterations` → `sinkhorn-iterations`: config keys and flags differ only in separators. */
export function flagName(key: string): string {
  return key.replace(/_/g, '-');
}

interface ZodDefLike {
  type: string;
  innerType?: { def: ZodDefLike };
  element?: { def: ZodDefLike };
  checks?: Array<{ _zod: { def: { check: string; format?: string; value?: number } } }>;
  entries?: Record<string, string>;
}

/** The base type of a schema field under its default/nullable wrappers. */
function baseDef(field: z.ZodType): { def: ZodDefLike; nullable: boolean } {
  let def = (field as unknown as { def: ZodDefLike }).def;
  let nullable = false;
  while ((def.type === 'default' || def.type === 'nullable' || def.type === 'optional') && def.innerType) {
    if (def.type === 'nullable') nullable = true;
    def = def.innerType.def;
  }
  return { def, nullable };
}

/** CLI options generated from an object schema: one flag per key, with its default, help and choices. */
export function optionSpecsFromSchema(schema: z.ZodObject, keys: readonly string[] = Object.keys(schema.shape)): OptionSpecs {
  const defaults = schema.parse({}) as Record<string, unknown>;
  const specs: OptionSpecs = {};
  for (const key of keys) {
    const field = schema.shape[key] as z.ZodType;
    const { def } = baseDef(field);
    const help = field.description ?? key;
    const d = defaults[key];
    const shown = Array.isArray(d) ? d.join(',') : d === null ? undefined : (d as string | number | boolean | undefined);
    let spec: OptionSpec;
    if (def.type === 'enum') spec = { kind: 'choice', choices: Object.values(def.entries ?? {}), default: shown, help };
    else if (def.type === 'boolean') spec = { kind: 'boolean', default: shown, help };
    else if (def.type === 'number') {
      const integer = def.checks?.some((c) => c._zod.def.check === 'number_format' && /int/.test(c._zod.def.format ?? '')) ?? false;
      spec = { kind: integer ? 'integer' : 'number', default: shown, help };
    } else if (def.type === 'array') spec = { kind: 'string', default: shown, help: `${help} (comma-separated)`, arg: 'LIST' };
    else spec = { kind: 'string', default: shown, help };
    specs[flagName(key)] = spec;
  }
  return specs;
}

/** The config keys given on the command line, converted to the schema's types (validation is the schema's job). */
export function partialFromFlags(schema: z.ZodObject, values: OptionValues, given: Set<string>): Record<string, unknown> {
  const partial: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const flag = flagName(key);
    if (!given.has(flag)) continue;
    const raw = values[flag];
    const { def } = baseDef(schema.shape[key] as z.ZodType);
    if (def.type === 'array' && typeof raw === 'string') {
      const element = def.element ? baseDef(def.element as unknown as z.ZodType).def.type : 'string';
      partial[key] = raw.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => (element === 'number' ? (s === '' ? NaN : Number(s)) : s));
    } else partial[key] = raw;
  }
  return partial;
}

/** Rewrite `key "sinkhorn_iterations"` in a validation message as `--sinkhorn-iterations`. */
export function nameFlagsInMessage(message: string): string {
  return message.replace(/key "([a-z0-9_]+)"/g, (_, k: string) => `--${flagName(k)}`);
}
