import ort from 'onnxruntime-node';

// The only onnxruntime user: sessions on the CPU execution provider, fed and read as plain
// typed arrays, so the rest of grapheme never sees an engine type.

/** A tensor going in: float32 or int64 (given as BigInt64Array) data with its dimensions. */
export interface Feed {
  data: Float32Array | BigInt64Array;
  dims: readonly number[];
}

export interface SessionOptions {
  /** Intra-op threads of the engine (1: the calling thread only). */
  threads: number;
}

/** A compiled ONNX graph. */
export class EngineSession {
  private constructor(private readonly session: ort.InferenceSession) {}

  /** Compile model bytes (all graph optimisations on, sequential execution). */
  static async create(model: Uint8Array, options: SessionOptions): Promise<EngineSession> {
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
    });
    return new EngineSession(session);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  /** Run with the named inputs; returns the requested float32 outputs as arrays. */
  async run(feeds: Record<string, Feed>, fetches: readonly string[]): Promise<Record<string, Float32Array>> {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) inputs[name] = new ort.Tensor(f.data instanceof BigInt64Array ? 'int64' : 'float32', f.data, f.dims);
    const out = await this.session.run(inputs, [...fetches]);
    const result: Record<string, Float32Array> = {};
    for (const name of fetches) {
      const t = out[name];
      if (!t) throw new Error(`engine returned no ${name}`);
      result[name] = t.data as Float32Array;
    }
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** The engine's default intra-op thread count: the fastest measured here (bench/step, docs/experiments.md). */
export function defaultThreads(): number {
  return 1;
}

/** The engine as reports name it, with its version (for example "onnxruntime-node 1.30.0, CPU"). */
export function engineName(): string {
  return `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common ?? '?'}, CPU`;
}
