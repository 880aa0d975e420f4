import { UserError } from '../util/errors.js';
import type { Command } from './options.js';

/**
 * `grapheme train` is the README's second set-up command. The model and training loop are not
 * built yet (issue 5), so it says so plainly and exits non-zero rather than pretending to train.
 */
export const trainCommand: Command = {
  name: 'train',
  usage: 'grapheme train',
  summary: 'Train a graph-to-graph model (not built yet: the model and training loop are the next milestone).',
  options: {},
  async run() {
    throw new UserError('train: training is not built yet — the model and training loop are still to come (see the README); the graph, data and loss commands work today');
  },
};
