// The ONNX model file is a protocol-buffers message (onnx.proto3). grapheme only writes it, and
// only the handful of fields below, so a small writer serves where a generated protobuf library
// (onnx-proto pulls in protobufjs and its code generator) would bring far more than it uses.
// Field numbers are those of onnx.proto3; test/onnx.test.ts runs what this writes in onnxruntime.

/** ONNX TensorProto.DataType codes used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

export type AttributeValue = number | number[] | string | { ints: number[] } | { floats: number[] } | { float: number } | TensorValue;

/** A tensor with its data: float32 or int64 values (int64 given as plain numbers). */
export interface TensorValue {
  name: string;
  dims: number[];
  type: DataTypeCode;
  floats?: Float32Array;
  ints?: ArrayLike<number>;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes: Record<string, AttributeValue>;
}

/** A graph input or output: a dimension is a size or a symbolic name ("batch"). */
export interface ValueSpec {
  name: string;
  type: DataTypeCode;
  dims: Array<number | string>;
}

export interface ModelSpecProto {
  graphName: string;
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers: TensorValue[];
  opset: number;
  producer: string;
  docString?: string;
  metadata?: Record<string, string>;
}

class Writer {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  varint(v: number | bigint): void {
    // int64 fields: negative values are ten-byte two's complement varints.
    let x = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    while (x >= 0x80n) {
      this.buf[this.len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.len++] = Number(x);
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  int(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, v, true);
    this.len += 4;
  }

  message(field: number, build: (w: Writer) => void): void {
    const w = new Writer();
    build(w);
    this.bytes(field, w.finish());
  }

  packedInts(field: number, vs: ArrayLike<number>): void {
    const w = new Writer();
    for (let i = 0; i < vs.length; i++) w.varint(vs[i]!);
    this.bytes(field, w.finish());
  }

  packedFloats(field: number, vs: ArrayLike<number>): void {
    const a = Float32Array.from(vs as ArrayLike<number>);
    this.bytes(field, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function writeTensor(w: Writer, t: TensorValue): void {
  w.packedInts(1, t.dims);
  w.int(2, t.type);
  w.string(8, t.name);
  if (t.type === DataType.FLOAT) {
    const f = t.floats ?? new Float32Array(0);
    // raw_data: little-endian bytes, the form runtimes read fastest.
    const le = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
    w.bytes(9, le);
  } else {
    const ints = t.ints ?? [];
    const raw = new BigInt64Array(ints.length);
    for (let i = 0; i < ints.length; i++) raw[i] = BigInt(ints[i]!);
    w.bytes(9, new Uint8Array(raw.buffer));
  }
}

function writeAttribute(w: Writer, name: string, v: AttributeValue): void {
  // AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, type 20.
  w.string(1, name);
  if (typeof v === 'number') {
    w.int(3, v);
    w.int(20, 2);
  } else if (typeof v === 'string') {
    w.string(4, v);
    w.int(20, 3);
  } else if (Array.isArray(v)) {
    for (const x of v) w.int(8, x);
    w.int(20, 7);
  } else if ('ints' in v && !('dims' in v)) {
    for (const x of v.ints) w.int(8, x);
    w.int(20, 7);
  } else if ('floats' in v && !('dims' in v)) {
    for (const x of v.floats as number[]) w.float(7, x);
    w.int(20, 6);
  } else if ('float' in v) {
    w.float(2, v.float);
    w.int(20, 1);
  } else {
    w.message(5, (t) => writeTensor(t, v as TensorValue));
    w.int(20, 4);
  }
}

function writeValueInfo(w: Writer, v: ValueSpec): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.type);
      tensor.message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

/** The bytes of an ONNX ModelProto (IR version 8) for a graph at the given default-domain opset. */
export function encodeModel(m: ModelSpecProto): Uint8Array {
  const w = new Writer();
  w.int(1, 8);
  w.string(2, m.producer);
  w.message(7, (g) => {
    for (const n of m.nodes)
      g.message(1, (node) => {
        for (const i of n.inputs) node.string(1, i);
        for (const o of n.outputs) node.string(2, o);
        node.string(3, n.name);
        node.string(4, n.op);
        for (const [k, v] of Object.entries(n.attributes)) node.message(5, (a) => writeAttribute(a, k, v));
      });
    g.string(2, m.graphName);
    for (const t of m.initializers) g.message(5, (x) => writeTensor(x, t));
    if (m.docString) g.string(10, m.docString);
    for (const v of m.inputs) g.message(11, (x) => writeValueInfo(x, v));
    for (const v of m.outputs) g.message(12, (x) => writeValueInfo(x, v));
  });
  w.message(8, (o) => {
    o.string(1, '');
    o.int(2, m.opset);
  });
  for (const [key, value] of Object.entries(m.metadata ?? {}))
    w.message(14, (e) => {
      e.string(1, key);
      e.string(2, value);
    });
  return w.finish();
}
