import { DataType } from './proto.js';
import { OnnxGraph, resolveShape, type Dim, type TapeEntry, type Value } from './graph.js';

// The differentiable ops the model is written in, each beside its gradient rule (the layout of
// tfjs-core's gradient registry and of JAX's primitives). A forward op emits its ONNX nodes and
// records itself on the graph's tape; `backwardGraph` walks the tape in reverse and calls each
// rule, which emits the rule's nodes into the backward graph. The forward graph keeps symbolic
// batch and node dimensions (one graph serves every batch, and is what `grapheme export`
// writes); a backward graph is written for one binding of them, so its rules work on sizes.
// test/onnx.test.ts checks every rule against central differences.

function broadcastShape(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

function matmulShape(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const batch = broadcastShape(a.slice(0, -2), b.slice(0, -2));
  return [...batch, a[a.length - 2]!, b[b.length - 1]!];
}

/** a·b (ONNX MatMul: batched, with numpy broadcasting of the batch axes). */
export function matmul(g: OnnxGraph, a: Value, b: Value): Value {
  const y = g.emit1('MatMul', [a, b], matmulShape(a.shape, b.shape));
  g.record('matmul', [a, b], [y]);
  return y;
}

function binary(op: 'Add' | 'Sub' | 'Mul' | 'Div', rule: string) {
  return (g: OnnxGraph, a: Value, b: Value): Value => {
    const y = g.emit1(op, [a, b], broadcastShape(a.shape, b.shape));
    g.record(rule, [a, b], [y]);
    return y;
  };
}

/** a + b, broadcast. */
export const add = binary('Add', 'add');
/** a − b, broadcast. */
export const sub = binary('Sub', 'sub');
/** a ∘ b, broadcast. */
export const mul = binary('Mul', 'mul');
/** a / b, broadcast. */
export const div = binary('Div', 'div');

function unary(op: 'Relu' | 'Sigmoid', rule: string) {
  return (g: OnnxGraph, x: Value): Value => {
    const y = g.emit1(op, [x], x.shape);
    g.record(rule, [x], [y]);
    return y;
  };
}

/** max(x, 0). */
export const relu = unary('Relu', 'relu');
/** 1 / (1 + e^−x). */
export const sigmoid = unary('Sigmoid', 'sigmoid');

/** Softmax over the last axis. */
export function softmax(g: OnnxGraph, x: Value): Value {
  const y = g.emit1('Softmax', [x], x.shape, { axis: -1 });
  g.record('softmax', [x], [y]);
  return y;
}

/** Layer normalisation over the last axis (ε 1e-5) with gain and bias [d]. */
export function layerNorm(g: OnnxGraph, x: Value, gain: Value, bias: Value): Value {
  const stat = [...x.shape.slice(0, -1), 1];
  const [y, mean, invStd] = g.emit('LayerNormalization', [x, gain, bias], [x.shape, stat, stat], { axis: -1, epsilon: { float: 1e-5 } });
  g.record('layerNorm', [x, gain, bias], [y!, mean!, invStd!]);
  return y!;
}

/** Reshape with ONNX codes (0 keeps that axis, −1 takes the rest); `shape` is the result's symbolic shape. */
export function reshape(g: OnnxGraph, x: Value, codes: readonly number[], shape: readonly Dim[]): Value {
  const y = g.emit1('Reshape', [x, g.ints([...codes])], shape);
  g.record('reshape', [x], [y]);
  return y;
}

/** Axis permutation. */
export function transpose(g: OnnxGraph, x: Value, perm: readonly number[]): Value {
  const y = g.emit1('Transpose', [x], perm.map((p) => x.shape[p]!), { perm: [...perm] });
  g.record('transpose', [x], [y], { perm });
  return y;
}

/** Rows of `table` [V, d] at int64 indices [...] → [..., d] (an embedding lookup). */
export function gather(g: OnnxGraph, table: Value, indices: Value): Value {
  const y = g.emit1('Gather', [table, indices], [...indices.shape, table.shape[1]!], { axis: 0 });
  g.record('gather', [table, indices], [y]);
  return y;
}

/** The first `k` rows along axis 1 of x [B, N, d], zero past N: [B, k, d]. */
export function takeRows(g: OnnxGraph, x: Value, k: number): Value {
  const padded = g.emit1('Pad', [x, g.ints([0, 0, 0, 0, k, 0])], [x.shape[0]!, 'padded', x.shape[2]!]);
  const y = g.emit1('Slice', [padded, g.ints([0]), g.ints([k]), g.ints([1])], [x.shape[0]!, k, x.shape[2]!]);
  g.record('takeRows', [x], [y], { k });
  return y;
}

/** x under a fixed name (a graph output the caller and an exported model's users address by name). */
export function named(g: OnnxGraph, x: Value, name: string): Value {
  const y: Value = { name, shape: x.shape, type: x.type };
  g.nodes.push({ op: 'Identity', inputs: [x.name], outputs: [name], name: `name_${name}`, attributes: {} });
  if (g.differentiable.has(x.name)) g.differentiable.add(name);
  g.record('named', [x], [y]);
  return y;
}

/** Non-differentiable ops of the forward graph (masks, padding scores): plain emissions. */
export const plain = {
  mul: (g: OnnxGraph, a: Value, b: Value): Value => g.emit1('Mul', [a, b], broadcastShape(a.shape, b.shape)),
  sub: (g: OnnxGraph, a: Value, b: Value): Value => g.emit1('Sub', [a, b], broadcastShape(a.shape, b.shape)),
  reshape: (g: OnnxGraph, x: Value, codes: readonly number[], shape: readonly Dim[]): Value => g.emit1('Reshape', [x, g.ints([...codes])], shape),
  sign: (g: OnnxGraph, x: Value): Value => g.emit1('Sign', [x], x.shape),
  transpose: (g: OnnxGraph, x: Value, perm: readonly number[]): Value => g.emit1('Transpose', [x], perm.map((p) => x.shape[p]!), { perm: [...perm] }),
  /** The first k entries of x along `axis`, zero past its end (takeRows for any axis, without a gradient). */
  firstAlong: (g: OnnxGraph, x: Value, axis: number, k: number): Value => {
    const r = x.shape.length;
    const pads = Array.from({ length: 2 * r }, (_, i) => (i === r + axis ? k : 0));
    const padded = g.emit1('Pad', [x, g.ints(pads)], x.shape.map((dim, i) => (i === axis ? 'padded' : dim)));
    return g.emit1('Slice', [padded, g.ints([0]), g.ints([k]), g.ints([axis])], x.shape.map((dim, i) => (i === axis ? k : dim)));
  },
};

/** What a rule may do in the backward graph: read forward values, know their sizes, emit nodes. */
export class BackwardContext {
  readonly g = new OnnxGraph('b');
  /** Forward intermediates the backward graph reads: the forward graph must output them. */
  readonly saved: Value[] = [];
  private readonly imported = new Map<string, Value>();
  private readonly sizes = new Map<string, number[]>();

  constructor(
    readonly forward: OnnxGraph,
    readonly binding: Readonly<Record<string, number>>,
  ) {}

  /** Whether a forward value needs a gradient (it depends on a parameter). */
  wants(v: Value): boolean {
    return this.forward.differentiable.has(v.name);
  }

  /** Sizes of a forward or backward value. */
  shape(v: Value): number[] {
    return this.sizes.get(v.name) ?? resolveShape(v.shape, this.binding);
  }

  /** A forward value as a backward-graph input (same name: a graph input is fed as is, an intermediate is returned by the forward run). */
  fwd(v: Value): Value {
    const hit = this.imported.get(v.name);
    if (hit) return hit;
    const constant = this.forward.initializers.find((t) => t.name === v.name);
    if (constant) {
      // A forward constant is written into the backward graph as well.
      this.g.initializers.push(constant);
      this.imported.set(v.name, v);
      return v;
    }
    const shape = this.shape(v);
    const b = this.g.input(v.name, shape, v.type);
    this.imported.set(v.name, b);
    if (!this.forward.inputs.some((i) => i.name === v.name)) this.saved.push(v);
    return b;
  }

  /** Emit one node with a known result size. */
  op(op: string, inputs: Value[], shape: readonly number[], attributes: Record<string, import('./proto.js').AttributeValue> = {}): Value {
    const v = this.g.emit1(op, inputs, shape, attributes);
    this.sizes.set(v.name, [...shape]);
    return v;
  }

  mul(a: Value, b: Value): Value {
    return this.op('Mul', [a, b], broadcastShape(this.shape(a), this.shape(b)) as number[]);
  }

  add(a: Value, b: Value): Value {
    return this.op('Add', [a, b], broadcastShape(this.shape(a), this.shape(b)) as number[]);
  }

  sub(a: Value, b: Value): Value {
    return this.op('Sub', [a, b], broadcastShape(this.shape(a), this.shape(b)) as number[]);
  }

  div(a: Value, b: Value): Value {
    return this.op('Div', [a, b], broadcastShape(this.shape(a), this.shape(b)) as number[]);
  }

  neg(a: Value): Value {
    return this.op('Neg', [a], this.shape(a));
  }

  reshape(x: Value, shape: readonly number[]): Value {
    const s = this.shape(x);
    if (s.length === shape.length && s.every((d, i) => d === shape[i])) return x;
    return this.op('Reshape', [x, this.g.ints([...shape])], shape);
  }

  transpose(x: Value, perm: readonly number[]): Value {
    const s = this.shape(x);
    return this.op('Transpose', [x], perm.map((p) => s[p]!), { perm: [...perm] });
  }

  /** The last two axes swapped. */
  swapLast(x: Value): Value {
    const r = this.shape(x).length;
    return this.transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
  }

  matmul(a: Value, b: Value): Value {
    return this.op('MatMul', [a, b], matmulShape(this.shape(a), this.shape(b)) as number[]);
  }

  /** op(a)·op(b) of two matrices, op a transpose where asked (MLAS reads the transpose in place). */
  gemm(a: Value, b: Value, transA: boolean, transB: boolean): Value {
    const [ar, ac] = this.shape(a) as [number, number];
    const [br, bc] = this.shape(b) as [number, number];
    return this.op('Gemm', [a, b], [transA ? ac : ar, transB ? br : bc], { transA: transA ? 1 : 0, transB: transB ? 1 : 0 });
  }

  /** Sum over the last axis, kept as size 1. */
  sumLast(x: Value): Value {
    const s = this.shape(x);
    return this.op('ReduceSum', [x, this.g.ints([s.length - 1])], [...s.slice(0, -1), 1], { keepdims: 1 });
  }

  /** Mean over the last axis, kept as size 1. */
  meanLast(x: Value): Value {
    const s = this.shape(x);
    return this.op('ReduceMean', [x], [...s.slice(0, -1), 1], { axes: [s.length - 1], keepdims: 1 });
  }

  /** The gradient of a broadcast input: dy summed over the axes the input was broadcast along. */
  unbroadcast(dy: Value, target: readonly number[]): Value {
    const s = this.shape(dy);
    const axes: number[] = [];
    for (let i = 0; i < s.length; i++) {
      const j = i - (s.length - target.length);
      if ((j < 0 || target[j] === 1) && s[i] !== 1) axes.push(i);
    }
    if (axes.length === 0) return this.reshape(dy, target);
    const kept = s.map((d, i) => (axes.includes(i) ? 1 : d));
    const summed = this.op('ReduceSum', [dy, this.g.ints(axes)], kept, { keepdims: 1 });
    return this.reshape(summed, target);
  }
}

type Rule = (c: BackwardContext, e: TapeEntry, dy: Value[]) => Array<Value | null>;

/** Gradient rules by op: the gradients of the inputs, given those of the outputs (null: none needed). */
export const RULES: Record<string, Rule> = {
  matmul(c, e, [dy]) {
    const [a, b] = e.inputs as [Value, Value];
    const as = c.shape(a);
    const bs = c.shape(b);
    if (bs.length === 2 && as.length > 2 && c.wants(a)) {
      // x [..., k] · W [k, m]: flatten the leading axes and use transposed products.
      const rows = as.slice(0, -1).reduce((p, q) => p * q, 1);
      const dy2 = c.reshape(dy!, [rows, bs[1]!]);
      const da = c.reshape(c.gemm(dy2, c.fwd(b), false, true), as);
      const db = c.gemm(c.reshape(c.fwd(a), [rows, as.at(-1)!]), dy2, true, false);
      return [da, db];
    }
    const da = c.wants(a) ? c.unbroadcast(c.matmul(dy!, c.swapLast(c.fwd(b))), as) : null;
    const db = c.wants(b) ? c.unbroadcast(c.matmul(c.swapLast(c.fwd(a)), dy!), bs) : null;
    return [da, db];
  },
  add(c, e, [dy]) {
    return e.inputs.map((x) => (c.wants(x) ? c.unbroadcast(dy!, c.shape(x)) : null));
  },
  sub(c, e, [dy]) {
    const [a, b] = e.inputs as [Value, Value];
    return [c.wants(a) ? c.unbroadcast(dy!, c.shape(a)) : null, c.wants(b) ? c.neg(c.unbroadcast(dy!, c.shape(b))) : null];
  },
  mul(c, e, [dy]) {
    const [a, b] = e.inputs as [Value, Value];
    return [c.wants(a) ? c.unbroadcast(c.mul(dy!, c.fwd(b)), c.shape(a)) : null, c.wants(b) ? c.unbroadcast(c.mul(dy!, c.fwd(a)), c.shape(b)) : null];
  },
  div(c, e, [dy]) {
    const [a, b] = e.inputs as [Value, Value];
    const bb = c.fwd(b);
    const da = c.wants(a) ? c.unbroadcast(c.div(dy!, bb), c.shape(a)) : null;
    // d(a/b)/db = −(a/b)/b.
    const db = c.wants(b) ? c.neg(c.unbroadcast(c.div(c.mul(dy!, c.fwd(e.outputs[0]!)), bb), c.shape(b))) : null;
    return [da, db];
  },
  named(_c, _e, [dy]) {
    return [dy!];
  },
  relu(c, e, [dy]) {
    const y = c.fwd(e.outputs[0]!);
    return [c.mul(dy!, c.op('Sign', [y], c.shape(y)))];
  },
  sigmoid(c, e, [dy]) {
    const y = c.fwd(e.outputs[0]!);
    return [c.mul(c.mul(dy!, y), c.sub(c.g.scalar(1), y))];
  },
  softmax(c, e, [dy]) {
    // y ∘ (dy − Σ dy∘y) along the softmax axis.
    const y = c.fwd(e.outputs[0]!);
    return [c.mul(y, c.sub(dy!, c.sumLast(c.mul(dy!, y))))];
  },
  layerNorm(c, e, [dy]) {
    const [x, gain, bias] = e.inputs as [Value, Value, Value];
    const [, mean, invStd] = e.outputs as [Value, Value, Value];
    const is = c.fwd(invStd);
    const xhat = c.mul(c.sub(c.fwd(x), c.fwd(mean)), is);
    const gy = c.mul(dy!, c.fwd(gain));
    // d x̂ / d x applied to gy: (gy − mean(gy) − x̂·mean(gy·x̂)) / std.
    const dx = c.mul(c.sub(c.sub(gy, c.meanLast(gy)), c.mul(xhat, c.meanLast(c.mul(gy, xhat)))), is);
    return [dx, c.unbroadcast(c.mul(dy!, xhat), c.shape(gain)), c.unbroadcast(dy!, c.shape(bias))];
  },
  reshape(c, e, [dy]) {
    return [c.reshape(dy!, c.shape(e.inputs[0]!))];
  },
  transpose(c, e, [dy]) {
    const perm = e.info['perm'] as number[];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [c.transpose(dy!, inverse)];
  },
  gather(c, e, [dy]) {
    // ∂table = onehot(indices)ᵀ · dy, both flattened over the index axes.
    const [table, indices] = e.inputs as [Value, Value];
    const [V, d] = c.shape(table) as [number, number];
    const rows = c.shape(indices).reduce((p, q) => p * q, 1);
    const hot = c.op('OneHot', [c.fwd(indices), c.g.ints([V]), c.g.floats([0, 1], [2])], [...c.shape(indices), V], { axis: -1 });
    return [c.gemm(c.reshape(hot, [rows, V]), c.reshape(dy!, [rows, d]), true, false), null];
  },
  takeRows(c, e, [dy]) {
    const k = e.info['k'] as number;
    const [B, N, d] = c.shape(e.inputs[0]!) as [number, number, number];
    if (N >= k) return [c.op('Pad', [dy!, c.g.ints([0, 0, 0, 0, N - k, 0])], [B, N, d])];
    return [c.op('Slice', [dy!, c.g.ints([0]), c.g.ints([N]), c.g.ints([1])], [B, N, d])];
  },
};

/**
 * The backward graph of `forward` for one binding of its symbolic dimensions: inputs are the
 * gradients of `seeds` (named `grad:<seed>`), the forward graph's inputs it reads and the
 * forward intermediates it reads (`saved`, which the forward graph must output); outputs are
 * the gradients of `wrt` (named `grad:<name>`), each the full sum of its paths.
 */
export function backwardGraph(forward: OnnxGraph, seeds: readonly Value[], wrt: readonly Value[], binding: Readonly<Record<string, number>>): { graph: OnnxGraph; saved: Value[] } {
  const c = new BackwardContext(forward, binding);
  const grads = new Map<string, Value>();
  const accumulate = (v: Value, dv: Value): void => {
    const prev = grads.get(v.name);
    grads.set(v.name, prev ? c.add(prev, dv) : dv);
  };
  for (const s of seeds) grads.set(s.name, c.g.input(`grad:${s.name}`, c.shape(s), DataType.FLOAT));
  for (let k = forward.tape.length - 1; k >= 0; k--) {
    const e = forward.tape[k]!;
    const dy = e.outputs.map((o) => grads.get(o.name));
    if (dy.every((d) => d === undefined)) continue;
    // A multi-output op whose secondary outputs (statistics) carry no gradient of their own.
    if (dy[0] === undefined) throw new Error(`op ${e.op}: gradient only for a secondary output`);
    const rule = RULES[e.op];
    if (!rule) throw new Error(`no gradient rule for ${e.op}`);
    const dx = rule(c, e, dy as Value[]);
    e.inputs.forEach((x, i) => {
      const d = dx[i];
      if (d && forward.differentiable.has(x.name)) accumulate(x, d);
    });
  }
  for (const w of wrt) {
    const d = grads.get(w.name);
    if (!d) throw new Error(`parameter ${w.name} gets no gradient`);
    // An Identity gives the output its name even where the gradient is an input or another node's output.
    c.g.nodes.push({ op: 'Identity', inputs: [d.name], outputs: [`grad:${w.name}`], name: `grad_${w.name}`, attributes: {} });
    c.g.outputs.push({ name: `grad:${w.name}`, type: DataType.FLOAT, dims: c.shape(d) });
  }
  return { graph: c.g, saved: c.saved };
}
