import { parseArgs } from 'node:util';
import { UserError } from '../util/errors.js';
import { nearestName } from '../util/nearest.js';

/** One command-line option: its kind, default and help text. */
export interface OptionSpec {
  kind: 'string' | 'number' | 'integer' | 'boolean' | 'choice';
  help: string;
  default?: string | number | boolean;
  choices?: readonly string[];
  /** Smallest and largest accepted values for numbers. */
  min?: number;
  max?: number;
  /** The value placeholder in --help. */
  arg?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;
export type OptionValues = Record<string, string | number | boolean | undefined>;

export interface ParsedArgs {
  values: OptionValues;
  positionals: string[];
  /** Names of options given on the command line (not defaults). */
  given: Set<string>;
}

/** A command: its usage line, summary, options, and what it does. Returns the exit code. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  options: OptionSpecs;
  /** Worked examples shown under --help. */
  examples?: string[];
  /** Whether the command takes positional arguments (TEXT, files); elsewhere a stray word is an error. */
  positionals?: boolean;
  run(args: ParsedArgs): Promise<number>;
}

/** Convert and range-check one option value; errors name the flag. */
export function coerceOption(name: string, spec: OptionSpec, raw: string | boolean): string | number | boolean {
  if (spec.kind === 'boolean') return raw === true || raw === 'true';
  const text = String(raw);
  if (spec.kind === 'string') return text;
  if (spec.kind === 'choice') {
    if (!spec.choices!.includes(text)) throw new UserError(`--${name}: ${JSON.stringify(text)} is not one of ${spec.choices!.join(', ')}`);
    return text;
  }
  const v = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(v)) throw new UserError(`--${name}: ${JSON.stringify(text)} is not a finite number`);
  if (spec.kind === 'integer' && !Number.isInteger(v)) throw new UserError(`--${name}: ${JSON.stringify(text)} is not an integer`);
  if (spec.min !== undefined && v < spec.min) throw new UserError(`--${name}: ${v} is below the minimum ${spec.min}`);
  if (spec.max !== undefined && v > spec.max) throw new UserError(`--${name}: ${v} is above the maximum ${spec.max}`);
  return v;
}

/** Parse argv against option specs; unknown flags and bad values are UserErrors naming the flag. */
export function parseOptions(command: string, specs: OptionSpecs, argv: string[]): ParsedArgs {
  const config: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    config[name] = { type: spec.kind === 'boolean' ? 'boolean' : 'string' };
    // Node 20's parseArgs has no negated flags: a boolean whose default is on is turned off by --no-NAME.
    if (spec.kind === 'boolean') config[`no-${name}`] = { type: 'boolean' };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: config, strict: true, allowPositionals: true });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const m = /Unknown option '([^']+)'/.exec(msg);
    if (m) {
      const near = nearestName(m[1]!.replace(/^-+/, ''), Object.keys(specs));
      throw new UserError(`${command}: unknown option ${m[1]}${near ? ` (did you mean --${near}?)` : ''} (see grapheme ${command} --help)`);
    }
    const amb = /Option '(--[\w-]+)' argument is ambiguous/.exec(msg);
    if (amb) throw new UserError(`${command}: ${amb[1]} needs a value; write a value that starts with "-" as ${amb[1]}=-1`);
    throw new UserError(`${command}: ${msg.split('\n')[0]} (see grapheme ${command} --help)`);
  }
  const values: OptionValues = {};
  const given = new Set<string>();
  const flags = parsed.values as Record<string, string | boolean | undefined>;
  for (const [name, spec] of Object.entries(specs)) {
    let raw = flags[name];
    if (spec.kind === 'boolean' && flags[`no-${name}`] !== undefined) {
      if (raw !== undefined) throw new UserError(`${command}: --${name} and --no-${name} contradict each other; give one`);
      raw = !flags[`no-${name}`];
    }
    if (raw === undefined) {
      values[name] = spec.default;
    } else {
      given.add(name);
      values[name] = coerceOption(name, spec, raw);
    }
  }
  return { values, positionals: parsed.positionals, given };
}

/** The --help text of a command: usage, summary, every option with its default, examples. */
export function commandHelp(cmd: Command): string {
  const rows = Object.entries(cmd.options).map(([name, spec]) => {
    const arg = spec.kind === 'boolean' ? '' : ` ${spec.arg ?? (spec.kind === 'choice' ? spec.choices!.join('|') : spec.kind === 'string' ? 'VALUE' : 'N')}`;
    const def = spec.default === undefined || spec.default === false ? '' : spec.default === true ? ` (default: on; --no-${name} turns it off)` : ` (default: ${String(spec.default)})`;
    return [`  --${name}${arg}`, `${spec.help}${def}`] as const;
  });
  const width = Math.min(34, Math.max(0, ...rows.map(([l]) => l.length)) + 2);
  const lines = [`Usage: ${cmd.usage}`, '', cmd.summary, '', 'Options:'];
  for (const [l, r] of rows) lines.push(l.length >= width ? `${l}\n${' '.repeat(width)}${r}` : `${l.padEnd(width)}${r}`);
  lines.push(`${'  --help'.padEnd(width)}show this help`);
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}
