// The array API: compare two texts as graphs with the structural loss, the exact and approximate
// graph edit distance and the Weisfeiler–Lehman similarity. Run: node examples/compare-texts.mjs
import { bpGed, compareGraphs, exactGed, textToGraph, wlSimilarity } from 'grapheme';

const pred = textToGraph('misisipi');
const target = textToGraph('mississippi');

// Every config key is optional; the defaults are those of `grapheme loss`.
const loss = compareGraphs(pred, target);
console.log(`structural loss ${loss.total.toFixed(3)} (node ${loss.node.toFixed(3)}, edge ${loss.edge.toFixed(3)}, clique ${loss.clique.toFixed(3)})`);
console.log(`  Sinkhorn: ${loss.sinkhorn.iterations} iterations, marginal error ${loss.sinkhorn.marginalError.toExponential(1)}`);

// The likelihood form at the nearest edit path: the training defaults of `grapheme train`.
const trained = compareGraphs(pred, target, { cost_form: 'likelihood', assignment: 'hard' });
console.log(`likelihood form ${trained.total.toFixed(3)}`);

const ged = exactGed(pred, target, { timeMs: 1000 });
console.log(`exact GED ${ged.ged} (${ged.exact ? 'proved optimal' : 'bracket'} ${ged.lowerBound}..${ged.upperBound}), ${ged.editPath.length} edit operations`);
const bp = bpGed(pred, target);
console.log(`bipartite GED bracket ${bp.lowerBound}..${bp.upperBound}`);
console.log(`WL similarity ${wlSimilarity(pred, target).toFixed(3)}`);
