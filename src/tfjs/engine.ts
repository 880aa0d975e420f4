import * as tf from '@tensorflow/tfjs';
// The wasm backend registers itself on import; it must come after @tensorflow/tfjs, which registers the gradients.
import '@tensorflow/tfjs-backend-wasm';

let ready: Promise<void> | null = null;

/** Select the WebAssembly backend once (single-threaded in Node, shipped in the package, offline). */
export function initEngine(): Promise<void> {
  ready ??= (async () => {
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error('the tfjs WebAssembly backend failed to initialise');
    await tf.ready();
  })();
  return ready;
}

export { tf };
