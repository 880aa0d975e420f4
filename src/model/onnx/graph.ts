import { DataType, encodeModel, type AttributeValue, type DataTypeCode, type NodeSpec, type TensorValue, type ValueSpec } from './proto.js';

/** A dimension: a size, or a symbol bound when the graph runs ("B", "N"). */
export type Dim = number | string;

/** A tensor of a graph under construction: its name, shape and element type. */
export interface Value {
  readonly name: string;
  readonly shape: readonly Dim[];
  readonly type: DataTypeCode;
}

/** One recorded differentiable op: what its gradient rule needs to know of the forward pass. */
export interface TapeEntry {
  op: string;
  inputs: Value[];
  outputs: Value[];
  info: Record<string, unknown>;
}

/**
 * An ONNX graph being written: nodes in order, graph inputs and outputs, constants as
 * initialisers. The forward graph also keeps a tape of its differentiable ops, from which
 * `autodiff.ts` writes the backward graph.
 */
export class OnnxGraph {
  readonly nodes: NodeSpec[] = [];
  readonly inputs: ValueSpec[] = [];
  readonly outputs: ValueSpec[] = [];
  readonly initializers: TensorValue[] = [];
  readonly tape: TapeEntry[] = [];
  /** Values that depend on a differentiable input (parameters): only these get gradients. */
  readonly differentiable = new Set<string>();
  private count = 0;
  private readonly constants = new Map<string, Value>();
  private readonly outputNames = new Set<string>();

  constructor(readonly prefix = '') {}

  /** A fresh tensor name. */
  fresh(hint: string): string {
    return `${this.prefix}${hint}_${this.count++}`;
  }

  /** A graph input; `differentiable` marks a parameter (gradients flow to it). */
  input(name: string, shape: readonly Dim[], type: DataTypeCode = DataType.FLOAT, differentiable = false): Value {
    this.inputs.push({ name, type, dims: [...shape] });
    if (differentiable) this.differentiable.add(name);
    return { name, shape, type };
  }

  /** Mark a value as a graph output (once; later calls are no-ops). */
  output(v: Value): void {
    if (this.outputNames.has(v.name)) return;
    this.outputNames.add(v.name);
    this.outputs.push({ name: v.name, type: v.type, dims: [...v.shape] });
  }

  /** A float32 constant (an initialiser), shared between uses with the same values and shape. */
  floats(values: ArrayLike<number>, dims: readonly number[]): Value {
    const key = values.length <= 16 ? `f${dims.join('x')}:${Array.from(values).join(',')}` : null;
    const hit = key ? this.constants.get(key) : undefined;
    if (hit) return hit;
    const name = this.fresh('const');
    this.initializers.push({ name, dims: [...dims], type: DataType.FLOAT, floats: Float32Array.from(values) });
    const v: Value = { name, shape: dims, type: DataType.FLOAT };
    if (key) this.constants.set(key, v);
    return v;
  }

  /** A scalar float32 constant (shape []). */
  scalar(x: number): Value {
    return this.floats([x], []);
  }

  /** An int64 vector constant (shapes, axes, pads). */
  ints(values: readonly number[]): Value {
    const key = `i${values.join(',')}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = this.fresh('ints');
    this.initializers.push({ name, dims: [values.length], type: DataType.INT64, ints: values });
    const v: Value = { name, shape: [values.length], type: DataType.INT64 };
    this.constants.set(key, v);
    return v;
  }

  /** Append one node; its outputs get fresh names and the shapes given. */
  emit(op: string, inputs: Value[], shapes: ReadonlyArray<readonly Dim[]>, attributes: Record<string, AttributeValue> = {}, types?: DataTypeCode[]): Value[] {
    const outputs = shapes.map((shape, k) => ({ name: this.fresh(op), shape, type: types?.[k] ?? DataType.FLOAT }));
    this.nodes.push({ op, inputs: inputs.map((v) => v.name), outputs: outputs.map((v) => v.name), name: `${op}_${this.nodes.length}`, attributes });
    if (inputs.some((v) => this.differentiable.has(v.name))) for (const o of outputs) this.differentiable.add(o.name);
    return outputs;
  }

  /** One node with one output. */
  emit1(op: string, inputs: Value[], shape: readonly Dim[], attributes: Record<string, AttributeValue> = {}, type?: DataTypeCode): Value {
    return this.emit(op, inputs, [shape], attributes, type === undefined ? undefined : [type])[0]!;
  }

  /** Record a differentiable op for the backward pass (only if an input is differentiable). */
  record(op: string, inputs: Value[], outputs: Value[], info: Record<string, unknown> = {}): void {
    if (inputs.some((v) => this.differentiable.has(v.name))) this.tape.push({ op, inputs, outputs, info });
  }

  /** The graph as ONNX model bytes; `weights` turns the named inputs into initialisers (export). */
  encode(options: { name: string; docString?: string; metadata?: Record<string, string>; weights?: Map<string, Float32Array> } = { name: 'grapheme' }): Uint8Array {
    const weights = options.weights;
    const inputs = weights ? this.inputs.filter((v) => !weights.has(v.name)) : this.inputs;
    const initializers = [...this.initializers];
    if (weights)
      for (const v of this.inputs) {
        const w = weights.get(v.name);
        if (w) initializers.push({ name: v.name, dims: v.dims as number[], type: DataType.FLOAT, floats: w });
      }
    return encodeModel({
      graphName: options.name, nodes: this.nodes, inputs, outputs: this.outputs, initializers, opset: ONNX_OPSET, producer: 'grapheme',
      ...(options.docString ? { docString: options.docString } : {}), ...(options.metadata ? { metadata: options.metadata } : {}),
    });
  }
}

/** The default-domain opset every grapheme graph is written against. */
export const ONNX_OPSET = 17;

/** Sizes of a shape under a binding of its symbols. */
export function resolveShape(shape: readonly Dim[], binding: Readonly<Record<string, number>>): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    // "3*N": a multiple of a symbol (blocks of N rows side by side).
    const m = /^(\d+)\*(\w+)$/.exec(d);
    const n = m ? binding[m[2]!] : binding[d];
    if (n === undefined) throw new Error(`dimension ${d} is not bound`);
    return m ? Number(m[1]) * n : n;
  });
}
