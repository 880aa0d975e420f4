import { UserError } from '../util/errors.js';
import { dataCommand } from './data.js';
import { graphCommand } from './graph.js';
import { compareCommand } from './compare.js';
import { evalCommand } from './evaluate.js';
import { gedCommand } from './ged.js';
import { predictCommand } from './predict.js';
import { lossCommand } from './loss.js';
import { wlCommand } from './wl.js';
import { trainCommand } from './train.js';
import { exportCommand } from './export.js';
import { info, out } from './io.js';
import { commandHelp, parseOptions, type Command } from './options.js';

const COMMANDS: Command[] = [trainCommand, evalCommand, predictCommand, exportCommand, compareCommand, graphCommand, dataCommand, lossCommand, gedCommand, wlCommand];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 4;
  return [
    'Usage: grapheme COMMAND [options]',
    '',
    'Train graph-to-graph models with a differentiable structural loss.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run "grapheme COMMAND --help" for the options of a command.',
  ].join('\n');
}

/** Run the CLI with argv (without node and script); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'help' && rest[0] !== undefined && COMMANDS.some((c) => c.name === rest[0])) return main([rest[0], '--help']);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(mainHelp());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version') {
    out('grapheme 0.1.0');
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  try {
    if (!cmd) throw new UserError(`unknown command ${JSON.stringify(name)} (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
    if (rest.includes('--help') || rest.includes('-h')) {
      out(commandHelp(cmd));
      return 0;
    }
    const args = parseOptions(cmd.name, cmd.options, rest);
    if (!cmd.positionals && args.positionals.length > 0) throw new UserError(`${cmd.name}: unexpected argument ${JSON.stringify(args.positionals[0])} (options start with --; see grapheme ${cmd.name} --help)`);
    return await cmd.run(args);
  } catch (err) {
    return reportError(err);
  }
}

/** Print an error as one line on stderr; stacks only for internal errors and only with GRAPHEME_DEBUG. */
export function reportError(err: unknown): number {
  if (err instanceof UserError) {
    info(`grapheme: ${err.message}`);
    return 2;
  }
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  info(`grapheme: internal error: ${message}${process.env.GRAPHEME_DEBUG ? '' : ' (set GRAPHEME_DEBUG=1 for details)'}`);
  if (process.env.GRAPHEME_DEBUG && err instanceof Error) info(err.stack ?? '');
  return 1;
}
