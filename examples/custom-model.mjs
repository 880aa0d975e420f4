// Train a model that is not grapheme's (a few tfjs layers of its own) with grapheme's structural
// loss, on the built-in reverse task. The loss takes the model's probability tensors and the
// target graphs; its gradient reaches the model's weights through optimizer.minimize.
// Run: node examples/custom-model.mjs [STEPS]
import { generateRecords, recordTexts, textToGraph } from 'grapheme';
import { initEngine, structuralLossOp, tf } from 'grapheme/tfjs';

const steps = Number(process.argv[2] ?? 300);
await initEngine();

// Data: reverse strings of 3–4 letters over "abcd".
const task = { task: 'reverse', levels: [1], alphabet: 'abcd', minLength: 3, maxLength: 4 };
const pairs = generateRecords(task, 256, 1, 'train').map((r) => recordTexts(r));
const alphabet = ['a', 'b', 'c', 'd'];
const N = 4; // longest input, and the model's K output slots
const L = alphabet.length;
const encode = (text) => {
  const x = new Float32Array(N * (L + 1));
  [...text].forEach((ch, i) => (x[i * (L + 1) + alphabet.indexOf(ch)] = 1));
  for (let i = text.length; i < N; i++) x[i * (L + 1) + L] = 1; // padding
  return x;
};

// The model: an MLP from the one-hot input to every head at once.
const K = N;
const hidden = tf.layers.dense({ units: 128, activation: 'relu', inputShape: [N * (L + 1)] });
const existHead = tf.layers.dense({ units: K, activation: 'sigmoid' });
const labelHead = tf.layers.dense({ units: K * L });
const seqHead = tf.layers.dense({ units: K * K, activation: 'sigmoid', biasInitializer: tf.initializers.constant({ value: -2 }) });
const cliqueHead = tf.layers.dense({ units: K * K, activation: 'sigmoid', biasInitializer: tf.initializers.constant({ value: -2 }) });
const forward = (x) => {
  const h = hidden.apply(x);
  const B = x.shape[0];
  return {
    exist: existHead.apply(h),
    labels: tf.softmax(labelHead.apply(h).reshape([B, K, L])),
    edges: { sequential: seqHead.apply(h).reshape([B, K, K]), clique: cliqueHead.apply(h).reshape([B, K, K]) },
  };
};

// Layers create their weights on first use: build them before the optimiser looks for variables.
tf.tidy(() => forward(tf.zeros([1, N * (L + 1)])));
const optimizer = tf.train.adam(0.01);
const batchSize = 32;
for (let step = 1; step <= steps; step++) {
  const batch = Array.from({ length: batchSize }, (_, b) => pairs[(step * batchSize + b) % pairs.length]);
  const x = tf.tensor2d(batch.map((p) => [...encode(p.input)]));
  const targets = batch.map((p) => textToGraph(p.target));
  const loss = optimizer.minimize(() => structuralLossOp(forward(x), targets, alphabet), true);
  if (step === 1 || step % 25 === 0 || step === steps) console.log(`step ${step}  loss ${loss.dataSync()[0].toFixed(4)}`);
  tf.dispose([x, loss]);
}
