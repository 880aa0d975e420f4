import { writeFileAtomic } from '../train/files.js';
import { loadModel } from '../train/trainer.js';
import { UserError, describeError } from '../util/errors.js';
import { info } from './io.js';
import type { Command } from './options.js';
import { INPUT_NAMES } from '../model/forward.js';

export const exportCommand: Command = {
  name: 'export',
  usage: 'grapheme export --checkpoint F --onnx FILE',
  summary: "Write a checkpoint's network as a standard ONNX model (opset 17, weights as initialisers) for any ONNX runtime.",
  options: {
    checkpoint: { kind: 'string', help: 'checkpoint file or run directory', arg: 'F' },
    onnx: { kind: 'string', help: 'the .onnx file to write', arg: 'FILE' },
  },
  examples: ['grapheme export --checkpoint runs/ce3 --onnx reverse.onnx'],
  async run({ values }) {
    if (typeof values.checkpoint !== 'string') throw new UserError('export: --checkpoint F is required');
    if (typeof values.onnx !== 'string') throw new UserError('export: --onnx FILE is required');
    const { ckpt, model } = loadModel(values.checkpoint);
    const { spec } = ckpt;
    // The metadata says how to encode an input and read the outputs, so the file stands alone.
    const metadata = {
      'grapheme.format': '1',
      'grapheme.alphabet': JSON.stringify(spec.alphabet),
      'grapheme.input_edge_types': JSON.stringify(spec.inputTypes),
      'grapheme.output_edge_types': JSON.stringify(spec.outputTypes),
      'grapheme.max_positions': String(spec.maxPositions),
      'grapheme.input_builder': ckpt.config.input_builder,
      'grapheme.target_builder': ckpt.config.target_builder,
      'grapheme.inputs': `${INPUT_NAMES.labels} int64 [B,N] alphabet index per node (0 unknown and padding); ${INPUT_NAMES.positions} int64 [B,N] grapheme position (max_positions for none or padding); ${spec.endPositions ? `${INPUT_NAMES.endPositions} int64 [B,N] grapheme position counted from the end of the text, the last 0 (max_positions for none or padding); ` : ''}${INPUT_NAMES.mask} float [B,N] 1 real node, 0 padding${spec.inputTypes.length > 0 ? `; ${INPUT_NAMES.adjacency} float [B,N,${2 * spec.inputTypes.length}N] row-normalised adjacency, block 2t out-neighbours and 2t+1 in-neighbours of input edge type t` : ''}`,
      'grapheme.outputs': `exist [B,K] node probability; labels [B,K,V] label distribution; positions [B,K,K] rank distribution; ${spec.outputTypes.map((t) => `edges_${t}`).join(', ')} [B,K,K] edge probability from slot i to slot k`,
    };
    try {
      writeFileAtomic(values.onnx, Buffer.from(model.exportOnnx(metadata)));
    } catch (err) {
      throw new UserError(`export: cannot write ${values.onnx} (${describeError(err)})`);
    } finally {
      await model.dispose();
    }
    info(`export: ${values.onnx} (${model.parameterCount()} parameters, K ${spec.K}, alphabet of ${spec.alphabet.length})`);
    return 0;
  },
};
